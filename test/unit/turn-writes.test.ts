import { describe, expect, it, vi } from "vitest";
import { textFrame } from "../../src/doors/ws-kit/text-frame.js";
import {
  afterWrites,
  BYTES_PER_SLICE,
  TurnQueue,
  WRITES_PER_SLICE,
} from "../../src/doors/ws-kit/turn-writes.js";

/** Resolves after the current turn's `process.nextTick` work (the flush) has run. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A writer for a socket that takes every write whole: `record` must copy what it keeps. */
const taken =
  (record: (bytes: Buffer) => unknown) =>
  (bytes: Buffer): boolean => {
    record(bytes);
    return true;
  };

/** A writer for a socket that keeps the buffers it is given (as one that is behind does). */
const kept =
  (out: Buffer[]) =>
  (bytes: Buffer): boolean => {
    out.push(bytes);
    return false;
  };

describe("TurnQueue: a socket's frames of one turn in one write", () => {
  it("writes every frame queued in a turn once, in order, at the end of the turn", async () => {
    const writes: string[] = [];
    const q = new TurnQueue(taken((bytes) => writes.push(bytes.toString())));
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
    const q = new TurnQueue(kept(writes));
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
    const queues = [0, 1, 2].map((i) => new TurnQueue(taken((b) => writes.push(`${i}:${b}`))));
    for (const q of queues) q.push(Buffer.from("x"));
    for (const q of queues) q.push(Buffer.from("y"));
    queues[1]?.flush();
    expect(writes).toEqual(["1:xy"]);
    await endOfTurn();
    expect(writes).toEqual(["1:xy", "0:xy", "2:xy"]);
  });

  it("a text frame is framed where it is written: its text as UTF-8 between the shared bytes, counted in bytes", async () => {
    const writes: Buffer[] = [];
    const q = new TurnQueue(taken((b) => writes.push(Buffer.from(b))));
    const own = '"Zoë 🦊"';
    q.push(Buffer.from("shared"));
    q.pushTextFrame(Buffer.from('{"you":'), own, Buffer.byteLength(own), Buffer.from("}"));
    q.pushTextFrame(null, "reply", 5, null);
    const payload = Buffer.from('{"you":"Zoë 🦊"}');
    expect(q.bytes).toBe(6 + 2 + payload.length + 2 + 5);
    await endOfTurn();
    expect(writes).toEqual([
      Buffer.concat([Buffer.from("shared"), textFrame(payload), textFrame(Buffer.from("reply"))]),
    ]);
  });

  it("a text frame with a lead: the whole frames before it are written first, and counted in its bytes", async () => {
    const writes: Buffer[] = [];
    const q = new TurnQueue(taken((b) => writes.push(Buffer.from(b))));
    const lead = Buffer.concat([textFrame(Buffer.from("closed")), textFrame(Buffer.from("x"))]);
    q.pushTextFrame(Buffer.from("["), "own", 3, Buffer.from("]"), false, lead);
    expect(q.bytes).toBe(lead.length + 2 + 5);
    await endOfTurn();
    expect(writes).toEqual([Buffer.concat([lead, textFrame(Buffer.from("[own]"))])]);
  });

  it("a text frame's header takes the length encoding its payload needs (7, 16 or 64 bits)", async () => {
    for (const n of [125, 126, 65_535, 65_536]) {
      const writes: Buffer[] = [];
      const q = new TurnQueue(taken((b) => writes.push(Buffer.from(b))));
      const text = "x".repeat(n - 2);
      q.pushTextFrame(Buffer.from("["), text, n - 2, Buffer.from("]"));
      await endOfTurn();
      expect(writes).toEqual([textFrame(Buffer.from(`[${text}]`))]);
    }
  });

  it("a joined write the socket took whole lends its memory to the next; one it kept is never written over", async () => {
    const seen: { text: string; at: number; buffer: ArrayBufferLike }[] = [];
    const record = (b: Buffer) =>
      seen.push({ text: b.toString("latin1"), at: b.byteOffset, buffer: b.buffer });
    const [first, second] = [0, 1].map(() => new TurnQueue(taken(record)));
    const reveal = Buffer.from("reveal:");
    first?.pushTextFrame(reveal, "a", 1, null);
    second?.pushTextFrame(reveal, "b", 1, null);
    await endOfTurn();
    expect(seen.map((s) => s.text)).toEqual(["\x81\x08reveal:a", "\x81\x08reveal:b"]);
    expect(seen[1]?.buffer).toBe(seen[0]?.buffer);
    expect(seen[1]?.at).toBe(seen[0]?.at);

    const held: Buffer[] = [];
    const behind = new TurnQueue(kept(held));
    const next = new TurnQueue(taken(record));
    behind.pushTextFrame(reveal, "c", 1, null);
    next.pushTextFrame(reveal, "d", 1, null);
    await endOfTurn();
    expect(seen.at(-1)?.text).toBe("\x81\x08reveal:d");
    expect(held.map((b) => b.toString("latin1"))).toEqual(["\x81\x08reveal:c"]);
  });

  it("afterWrites: a turn that fits one slice calls back at its end, after its writes; with nothing queued, at the end of the turn", async () => {
    const writes: string[] = [];
    const queues = [0, 1, 2].map((i) => new TurnQueue(taken((b) => writes.push(`${i}:${b}`))));
    for (const q of queues) q.push(Buffer.from("board"));
    const seen: string[][] = [];
    afterWrites(() => seen.push([...writes]));
    expect(seen).toEqual([]);
    await endOfTurn();
    expect(seen).toEqual([["0:board", "1:board", "2:board"]]);

    let idle = false;
    afterWrites(() => {
      idle = true;
    });
    expect(idle).toBe(false);
    await endOfTurn();
    expect(idle).toBe(true);
  });

  it("a write that throws does not keep the other sockets of the turn from theirs", async () => {
    const writes: string[] = [];
    const broken = new TurnQueue(() => {
      throw new Error("socket gone");
    });
    const fine = new TurnQueue(taken((b) => writes.push(String(b))));
    broken.push(Buffer.from("lost"));
    fine.push(Buffer.from("kept"));
    await endOfTurn();
    expect(writes).toEqual(["kept"]);
  });

  describe("a turn too big for one slice (WRITES_PER_SLICE sockets or BYTES_PER_SLICE bytes)", () => {
    const room = WRITES_PER_SLICE * 2 + 500;
    /** After the current turn's nextTick work: the first slice is out, the backlog is not. */
    const nextTicks = () => new Promise<void>((resolve) => process.nextTick(resolve));

    it("writes one slice at the end of the turn, and a socket queued afterwards (an ack) before the rest", async () => {
      const order: string[] = [];
      const queues = Array.from(
        { length: room },
        (_, i) => new TurnQueue(taken((b) => order.push(`${i}:${b}`))),
      );
      const broadcast = Buffer.from("q");
      for (const q of queues) q.push(broadcast);
      await nextTicks();
      expect(order).toHaveLength(WRITES_PER_SLICE);
      expect(order[0]).toBe("0:q");

      // Another turn: an answer is acknowledged on a socket that has its question already.
      queues[0]?.push(Buffer.from("ack"));
      await nextTicks();
      expect(order).toHaveLength(WRITES_PER_SLICE + 1);
      expect(order.at(-1)).toBe("0:ack");

      await vi.waitFor(() => expect(order).toHaveLength(room + 1));
      // Every socket got the broadcast exactly once, the slices in the order they were queued.
      const broadcastTo = order.filter((w) => w.endsWith(":q")).map((w) => Number(w.split(":")[0]));
      expect(broadcastTo).toEqual(queues.map((_, i) => i));
    });

    it("a reply to a socket still waiting for its slice goes out with the turn's writes, the waiting frames before it", async () => {
      const writes: string[] = [];
      const queues = Array.from(
        { length: room },
        (_, i) => new TurnQueue(taken((b) => writes.push(`${i}:${b}`))),
      );
      for (const q of queues) q.push(Buffer.from("board"));
      await nextTicks();
      expect(writes).toHaveLength(WRITES_PER_SLICE);
      const last = room - 1;

      // Another turn: the last socket's answer is scored while its board still waits.
      queues[last]?.push(Buffer.from("+score"), true);
      await nextTicks();
      expect(writes).toHaveLength(WRITES_PER_SLICE + 1);
      expect(writes.at(-1)).toBe(`${last}:board+score`);
      expect(queues[last]?.bytes).toBe(0);

      // Its place in the backlog writes nothing more; everyone else gets the board once.
      await vi.waitFor(() => expect(writes).toHaveLength(room));
      expect(writes.filter((w) => w.startsWith(`${last}:`))).toEqual([`${last}:board+score`]);
      const boardTo = writes.map((w) => Number(w.split(":")[0]));
      expect(new Set(boardTo).size).toBe(room);
    });

    it("a reply queued in the same turn as the frames before it is written once, with them", async () => {
      const writes: string[] = [];
      const q = new TurnQueue(taken((b) => writes.push(String(b))));
      q.push(Buffer.from("state"));
      q.push(Buffer.from("+reply"), true);
      q.push(Buffer.from("+more"), true);
      await endOfTurn();
      expect(writes).toEqual(["state+reply+more"]);
    });

    it("big frames end a slice by their bytes: a quarter of BYTES_PER_SLICE each, four sockets a slice", async () => {
      const written: number[] = [];
      const board = Buffer.alloc(BYTES_PER_SLICE / 4, "b");
      const queues = Array.from(
        { length: 10 },
        (_, i) => new TurnQueue(taken(() => written.push(i))),
      );
      for (const q of queues) q.push(board);
      await nextTicks();
      expect(written).toEqual([0, 1, 2, 3]);
      await vi.waitFor(() => expect(written).toHaveLength(10));
      expect(written).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it("afterWrites: called once the last slice of the turn's broadcast is written, not when it is queued", async () => {
      let written = 0;
      const queues = Array.from({ length: room }, () => new TurnQueue(taken(() => written++)));
      for (const q of queues) q.push(Buffer.from("reveal"));
      const seen: number[] = [];
      afterWrites(() => seen.push(written));
      await nextTicks();
      expect(written).toBe(WRITES_PER_SLICE);
      expect(seen).toEqual([]);
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      expect(seen).toEqual([room]);
    });

    it("afterWrites: a later turn's callback waits for the backlog before its own writes, and comes after the earlier one", async () => {
      let written = 0;
      const queues = Array.from({ length: room }, () => new TurnQueue(taken(() => written++)));
      for (const q of queues) q.push(Buffer.from("question"));
      const order: string[] = [];
      afterWrites(() => order.push(`broadcast:${written}`));
      await nextTicks();
      // Another turn: one ack to a socket whose question already went out.
      queues[0]?.push(Buffer.from("ack"), true);
      afterWrites(() => order.push(`ack:${written}`));
      await nextTicks();
      expect(written).toBe(WRITES_PER_SLICE + 1);
      expect(order).toEqual([]);
      await vi.waitFor(() => expect(order).toHaveLength(2));
      expect(order).toEqual([`broadcast:${room + 1}`, `ack:${room + 1}`]);
    });

    it("a socket still waiting for its slice gets later frames in the same write, after the earlier ones", async () => {
      const writes = new Map<number, string[]>();
      const queues = Array.from({ length: room }, (_, i) => {
        writes.set(i, []);
        return new TurnQueue(taken((b) => writes.get(i)?.push(String(b))));
      });
      for (const q of queues) q.push(Buffer.from("question"));
      await nextTicks();
      const last = room - 1;
      expect(writes.get(last)).toEqual([]);
      queues[last]?.push(Buffer.from("+count"));
      // A second big turn while the first is still going out joins the backlog behind it.
      for (const q of queues) q.push(Buffer.from("+reveal"));
      await vi.waitFor(() => {
        for (const w of writes.values()) expect(w.length).toBeGreaterThan(0);
      });
      expect(writes.get(last)).toEqual(["question+count+reveal"]);
      expect(writes.get(0)).toEqual(["question", "+reveal"]);
      for (const q of queues) expect(q.bytes).toBe(0);
    });
  });
});

describe("TurnQueue: frames that may wait (a host's news of each join)", () => {
  it("waits WAIT_MS for more, then writes them all at once", async () => {
    const writes: string[] = [];
    const q = new TurnQueue(taken((b) => writes.push(String(b))));
    q.push(Buffer.from("joined a"), false, true);
    await endOfTurn();
    q.push(Buffer.from("+joined b"), false, true);
    await endOfTurn();
    expect(writes).toEqual([]);
    expect(q.bytes).toBe(17);
    await vi.waitFor(() => expect(writes).toEqual(["joined a+joined b"]));
    expect(q.bytes).toBe(0);
  });

  it("a frame that may not wait takes the waiting ones along, in order, at the end of its turn", async () => {
    const writes: string[] = [];
    const q = new TurnQueue(taken((b) => writes.push(String(b))));
    q.push(Buffer.from("joined"), false, true);
    await endOfTurn();
    q.push(Buffer.from("+ack"), true);
    await endOfTurn();
    expect(writes).toEqual(["joined+ack"]);
    // Nothing is written again when the wait is up.
    const next = new TurnQueue(taken((b) => writes.push(String(b))));
    next.push(Buffer.from("later"), false, true);
    await vi.waitFor(() => expect(writes).toContain("later"));
    expect(writes).toEqual(["joined+ack", "later"]);
  });

  it("a frame that may wait joins a turn's write that is going out anyway", async () => {
    const writes: string[] = [];
    const q = new TurnQueue(taken((b) => writes.push(String(b))));
    q.push(Buffer.from("question"));
    q.push(Buffer.from("+count"), false, true);
    await endOfTurn();
    expect(writes).toEqual(["question+count"]);
  });

  it("a flush asked for early (a close) writes what waits, and the wait's end writes nothing more", async () => {
    const writes: string[] = [];
    const q = new TurnQueue(taken((b) => writes.push(String(b))));
    q.push(Buffer.from("joined"), false, true);
    q.flush();
    expect(writes).toEqual(["joined"]);
    const other = new TurnQueue(taken((b) => writes.push(String(b))));
    other.push(Buffer.from("other"), false, true);
    await vi.waitFor(() => expect(writes).toContain("other"));
    expect(writes).toEqual(["joined", "other"]);
  });
});
