/**
 * Seed 000, "Host disconnect: pause automatically (config) or transfer host to `cohosts`", tried
 * the way a client written from docs/protocol.md would: raw frames over `ws`, no SDK. The host's
 * socket really closes; the room notices through the door (H-1…H-3).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyServerFrame } from "../../src/doors/canonical/protocol.js";
import { dataOf, messageIds, type RawSocket, rawSockets, userIdOf } from "../support/clients.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { createTestApp } from "../support/test-app.js";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let t: TestApp;
let url: string;
const sockets = rawSockets(() => url);

beforeAll(async () => {
  t = await createTestApp();
  const port = await t.app.listen();
  url = `ws://127.0.0.1:${port}/ws/v1`;
  await t.app.storage.quizzes.put(
    quizOf(
      [
        choiceQuestion("q1", { correct: [0] }),
        choiceQuestion("q2", { correct: [1] }),
        choiceQuestion("q3", { correct: [2] }),
      ],
      "host-absence-quiz",
    ),
  );
});

afterAll(async () => {
  sockets.closeAll();
  await t.close();
});

const open = sockets.open;

const msgId = messageIds();

/** A host's room and the frames that created it. */
async function createRoom(host: RawSocket, settings: Record<string, unknown>) {
  const created = dataOf(
    await host.request("create_room", msgId("create"), {
      quiz_id: "host-absence-quiz",
      mode: "live",
      settings,
      host_name: "Host",
    }),
    "room_created",
  );
  return created;
}

async function joinByPin(s: RawSocket, pin: string, name: string) {
  return dataOf(await s.request("join", msgId("join"), { pin, display_name: name }), "joined");
}

const isType =
  (type: string, match: (d: never) => boolean = () => true) =>
  (f: AnyServerFrame) =>
    f.type === type && match(f.data as never);

describe("seed 000: a host whose connection drops (host_disconnect)", () => {
  it("pause (the default): players get paused, then resumed with the time left once the host is back with host_token", async () => {
    const host = await open();
    const room = await createRoom(host, { host_grace_ms: 100, question_time_ms: 60_000 });
    const ann = await open();
    await joinByPin(ann, room.pin, "Ann");
    dataOf(await host.request("start", msgId("start")), "ack");
    const question = await ann.next(isType("question"));
    const deadline = dataOf(question, "question").deadline_ms!;

    host.close();
    const paused = await ann.next(isType("paused"));
    expect(dataOf(paused, "paused")).toEqual({
      reason: "host_disconnected",
      phase: "question",
      index: 0,
    });
    // While paused, answers wait.
    const refused = await ann.request("answer", msgId("answer"), { index: 0, choice: 0 });
    expect(dataOf(refused, "error")).toMatchObject({ code: "STATE", reason: "paused" });

    const back = await open();
    const rejoined = dataOf(
      await back.request("join", msgId("resume"), { resume_token: room.host_token }, room.room_id),
      "joined",
    );
    expect(rejoined).toMatchObject({ role: "host", resumed: true });
    const resumed = dataOf(await ann.next(isType("resumed")), "resumed");
    const resumedAt = (await ann.next(isType("resumed"))).at!;
    expect(resumed.phase).toBe("question");
    // The time that was left when the pause began is the time left now.
    expect(resumed.deadline_ms! - resumedAt).toBe(deadline - paused.at!);
    const score = await ann.request("answer", msgId("answer"), { index: 0, choice: 0 });
    expect(dataOf(score, "score")).toMatchObject({ accepted: true, correct: true });
  });

  it("transfer: host rights pass to the first connected cohost (host_changed); the old host is refused FORBIDDEN", async () => {
    const cat = await open();
    const catUser = userIdOf(cat);
    const host = await open();
    const room = await createRoom(host, {
      host_disconnect: "transfer",
      host_grace_ms: 100,
      cohosts: ["somebody-absent", catUser],
      question_time_ms: 60_000,
    });
    const ann = await open();
    await joinByPin(ann, room.pin, "Ann");
    const catJoined = await joinByPin(cat, room.pin, "Cat");
    dataOf(await host.request("start", msgId("start")), "ack");
    await ann.next(isType("question"));

    host.close();
    const changed = dataOf(await ann.next(isType("host_changed")), "host_changed");
    expect(changed).toMatchObject({
      user_id: catUser,
      participant_id: catJoined.participant_id,
      reason: "host_disconnected",
    });
    expect(ann.frames.some((f) => f.type === "paused")).toBe(false);

    // The old host comes back with host_token: their seat, not their rights.
    const old = await open();
    dataOf(
      await old.request("join", msgId("resume"), { resume_token: room.host_token }, room.room_id),
      "joined",
    );
    const refused = await old.request("next", msgId("next"));
    expect(dataOf(refused, "error")).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });

    // The cohost paces the game now.
    expect(dataOf(await cat.request("next", msgId("next")), "ack")).toMatchObject({
      type: "next",
      phase: "reveal",
    });
    await ann.next(isType("reveal"));
  });

  it("continue: without its host the game runs on its timers to the end", async () => {
    const host = await open();
    const room = await createRoom(host, {
      host_disconnect: "continue",
      host_grace_ms: 100,
      question_time_ms: 300,
      reveal_ms: 100,
    });
    const ann = await open();
    await joinByPin(ann, room.pin, "Ann");
    dataOf(await host.request("start", msgId("start")), "ack");
    await ann.next(isType("question"));
    host.close();
    const end = dataOf(await ann.next(isType("end")), "end");
    expect(end.reason).toBe("finished");
    expect(ann.frames.filter((f) => f.type === "reveal")).toHaveLength(3);
    expect(ann.frames.some((f) => f.type === "paused")).toBe(false);
  });
});

describe("seed 000: transfer_host", () => {
  it("the host hands over at any time; everyone gets host_changed and the old host's start is refused FORBIDDEN", async () => {
    const host = await open();
    const room = await createRoom(host, {});
    const ann = await open();
    const annJoined = await joinByPin(ann, room.pin, "Ann");
    const ben = await open();
    await joinByPin(ben, room.pin, "Ben");

    const ack = await host.request("transfer_host", msgId("transfer"), {
      user_id: annJoined.user_id,
    });
    expect(dataOf(ack, "ack")).toMatchObject({ type: "transfer_host" });
    for (const s of [ann, ben, host]) {
      const changed = dataOf(await s.next(isType("host_changed")), "host_changed");
      expect(changed).toMatchObject({
        user_id: annJoined.user_id,
        participant_id: annJoined.participant_id,
        previous_user_id: userIdOf(host),
        reason: "transferred",
      });
    }
    const refused = await host.request("start", msgId("start"));
    expect(dataOf(refused, "error")).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });
    expect(dataOf(await ann.request("start", msgId("start")), "ack")).toMatchObject({
      phase: "question",
    });
    // The new host's connection now gets what only hosts get (arrivals).
    const cyd = await open();
    await joinByPin(cyd, room.pin, "Cyd");
    const arrival = dataOf(await ann.next(isType("player_joined")), "player_joined");
    expect(arrival.participant.name).toBe("Cyd");
  });

  it("refuses a user who is not in the room (NOT_FOUND no_member) and changes nothing", async () => {
    const host = await open();
    await createRoom(host, {});
    const refused = await host.request("transfer_host", msgId("transfer"), { user_id: "nobody" });
    expect(dataOf(refused, "error")).toMatchObject({ code: "NOT_FOUND", reason: "no_member" });
    expect(dataOf(await host.request("start", msgId("start")), "ack")).toMatchObject({
      phase: "question",
    });
  });
});
