import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { hashToken } from "../../src/auth/token-hash.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { GroupCommitter } from "../../src/engine/group-committer.js";
import { Room } from "../../src/engine/room.js";
import { RoomRuntime } from "../../src/engine/room-runtime.js";
import type { Actor, JoinResult } from "../../src/engine/types.js";
import { hostActor, playerActor, sessionRecord, threeQuestions } from "../support/fixtures.js";

/** A later macrotask: every promise chain started before it has run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A live room of three questions on a manual fake clock, stored by `write`. */
function liveRuntime(write: ConstructorParameters<typeof GroupCommitter>[0]["write"]) {
  const clock = new FakeClock(0, { deferred: "manual" });
  const committer = new GroupCommitter({ write }, clock);
  const room = Room.create(sessionRecord("live", threeQuestions()), {
    random: new SeededRandom(1),
    hashToken,
  });
  const runtime = new RoomRuntime(room, {
    clock,
    committer,
    onError: (err) => {
      throw err;
    },
  });
  return { clock, runtime };
}

describe("RoomRuntime on the injected clock", () => {
  it("A-5, T-3, T-5: the last answer's acknowledgement comes first; the close and reveal it causes go out when the turn ends", async () => {
    // Storage that always succeeds: only the order of what comes out is under test.
    const { clock, runtime } = liveRuntime(async () => {});
    const out: string[] = [];
    runtime.subscribe((e) => out.push(e.body.type));

    const joined = runtime.execute(playerActor("ann"), { type: "join", name: "ann" });
    clock.runDeferred();
    const reply = await joined;
    if (!reply.ok) throw new Error(reply.error.msg);
    const ann: Actor = {
      ...playerActor("ann"),
      participantId: (reply.value as JoinResult).participantId,
    };
    await runtime.execute(ann, { type: "presence", connected: true });
    await runtime.execute(hostActor, { type: "start" });
    clock.advance(1_000);
    out.length = 0;

    // Ann is the only connected player: her answer closes the question once it is stored.
    const ack = runtime.execute(ann, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    void ack.then(() => out.push("ack"));
    clock.runDeferred(); // the commit
    await ack;
    await settled();
    expect(out).toEqual(["ack"]);

    clock.runDeferred(); // the turn that stored it ends
    expect(out).toEqual(["ack", "scored", "question_closed", "reveal"]);
  });

  it("the events of one room step come with `more` until the last of them", async () => {
    const { clock, runtime } = liveRuntime(async () => {});
    const got: Array<[string, boolean | undefined]> = [];
    runtime.subscribe((e, more) => got.push([e.body.type, more]));
    const joined = runtime.execute(playerActor("ann"), { type: "join", name: "ann" });
    clock.runDeferred();
    await joined;
    got.length = 0;
    await runtime.execute(hostActor, { type: "start" });
    // Ann's arrival left a player count waiting: it rides along with the start.
    expect(got).toEqual([
      ["started", true],
      ["player_count", true],
      ["question", false],
    ]);
  });

  it("answers stored by one commit share one deferred flush, and every one is acknowledged", async () => {
    const batches: number[] = [];
    const { clock, runtime } = liveRuntime(async (batch) => {
      batches.push(batch.length);
    });
    const players: Actor[] = [];
    for (const name of ["ann", "bob", "cy", "dee", "eve"]) {
      const joined = runtime.execute(playerActor(name), { type: "join", name });
      clock.runDeferred();
      const reply = await joined;
      if (!reply.ok) throw new Error(reply.error.msg);
      players.push({ ...playerActor(name), participantId: reply.value.participantId });
    }
    await runtime.execute(hostActor, { type: "start" });
    clock.advance(1_000);
    await settled();
    batches.length = 0;

    const acks = players.map((p) =>
      runtime.execute(p, {
        type: "answer",
        target: { index: 0 },
        answer: { kind: "choice", index: 0 },
      }),
    );
    expect(clock.runDeferred()).toBe(1); // the group commit gathers all five
    await Promise.all(acks);
    expect(batches).toEqual([5]);
    // The five settlements asked for one flush between them.
    expect(clock.pendingDeferred).toBe(1);
    for (const ack of await Promise.all(acks)) expect(ack.ok).toBe(true);
  });
});

describe("RoomRuntime's dedupe of keyed commands (A-6)", () => {
  it("a full map forgets the oldest replies first and keeps the recent ones", async () => {
    const { runtime } = liveRuntime(async () => {});
    const look = { type: "snapshot", role: "host" } as const;
    // One more than the map holds (20,000): the first replies make room.
    const replies = new Map<number, Promise<unknown>>();
    for (let i = 0; i <= 20_000; i++) {
      const reply = runtime.execute(hostActor, look, { dedupeKey: `host:${i}` });
      if (i === 0 || i >= 19_000) replies.set(i, reply);
    }
    await settled();
    // A retry of a remembered key gets the very reply it got; a forgotten one runs again.
    expect(runtime.execute(hostActor, look, { dedupeKey: "host:0" })).not.toBe(replies.get(0));
    for (const i of [19_000, 19_999, 20_000]) {
      expect(runtime.execute(hostActor, look, { dedupeKey: `host:${i}` })).toBe(replies.get(i));
    }
  });
});
