import { describe, expect, it } from "vitest";
import { TurnQueue } from "../../src/doors/ws-kit/turn-writes.js";

/** Resolves after the current turn's `process.nextTick` work (the flush) has run. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnQueue: a socket's frames of one turn in one write", () => {
  it("writes every frame queued in a turn once, in order, at the end of the turn", async () => {
    const writes: string[] = [];
    const q = new TurnQueue((bytes) => writes.push(bytes.toString()));
    q.push(Buffer.from("a"));
    q.push(Buffer.from("bc"));
    q.push(Buffer.from("d"));
    expect(writes).toEqual([]);
    expect(q.bytes).toBe(4);
    await endOfTurn();
    expect(writes).toEqual(["abcd"]);
    expect(q.bytes).toBe(0);
  });

  it("a lone frame is written as it is (no copy); the next turn starts a new write", async () => {
    const writes: Buffer[] = [];
    const q = new TurnQueue((bytes) => writes.push(bytes));
    const shared = Buffer.from("shared");
    q.push(shared);
    await endOfTurn();
    q.push(Buffer.from("next"));
    await endOfTurn();
    expect(writes[0]).toBe(shared);
    expect(writes.map(String)).toEqual(["shared", "next"]);
  });

  it("many sockets of one turn each get one write; a flush asked for early (a close) empties the queue", async () => {
    const writes: string[] = [];
    const queues = [0, 1, 2].map((i) => new TurnQueue((b) => writes.push(`${i}:${b}`)));
    for (const q of queues) q.push(Buffer.from("x"));
    for (const q of queues) q.push(Buffer.from("y"));
    queues[1]?.flush();
    expect(writes).toEqual(["1:xy"]);
    await endOfTurn();
    expect(writes).toEqual(["1:xy", "0:xy", "2:xy"]);
  });

  it("sockets given the same shared frames in a turn get one joined buffer between them; a personal frame gets its own", async () => {
    const written: Buffer[][] = [[], [], []];
    const queues = written.map((out) => new TurnQueue((b) => out.push(b)));
    const started = Buffer.from("started");
    const question = Buffer.from("question");
    for (const q of queues) {
      q.push(started);
      q.push(question);
    }
    queues[2]?.push(Buffer.from("+mine"));
    await endOfTurn();
    expect(written.map((w) => w.map(String))).toEqual([
      ["startedquestion"],
      ["startedquestion"],
      ["startedquestion+mine"],
    ]);
    expect(written[1]?.[0]).toBe(written[0]?.[0]);
  });

  it("a write that throws does not keep the other sockets of the turn from theirs", async () => {
    const writes: string[] = [];
    const broken = new TurnQueue(() => {
      throw new Error("socket gone");
    });
    const fine = new TurnQueue((b) => writes.push(String(b)));
    broken.push(Buffer.from("lost"));
    fine.push(Buffer.from("kept"));
    await endOfTurn();
    expect(writes).toEqual(["kept"]);
  });
});
