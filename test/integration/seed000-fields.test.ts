/**
 * Seed 000's own message fields, as a client written from the seed reads and sends them: raw
 * frames over `ws` and `fetch`, no SDK. `question {index, body, options, deadline_ms}`,
 * `reveal {index, correct_choice, per_user_stats[], leaderboard[]}`, `kick {user_id, reason}`
 * (and `POST /internal/rooms/:id/kick`), and the `UNKNOWN` error code.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { AnyServerFrame } from "../../src/doors/canonical/protocol.js";
import { serverValidators } from "../../src/doors/canonical/protocol.js";
import { dataOf, messageIds, rawSockets } from "../support/clients.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { createTestApp } from "../support/test-app.js";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let t: TestApp;
let url: string;
let base: string;
const sockets = rawSockets(() => url);

beforeAll(async () => {
  t = await createTestApp();
  const port = await t.app.listen();
  url = `ws://127.0.0.1:${port}/ws/v1`;
  base = `http://127.0.0.1:${port}`;
  await t.app.storage.quizzes.put(
    quizOf(
      [
        choiceQuestion("q1", {
          text: "Capital of France?",
          options: ["Paris", "Rome"],
          correct: [0],
        }),
        choiceQuestion("q2", { correct: [1] }),
      ],
      "fields-quiz",
    ),
  );
});

afterAll(async () => {
  sockets.closeAll();
  await t.close();
});

const open = sockets.open;

const msgId = messageIds();
const isType = (type: string) => (f: AnyServerFrame) => f.type === type;

async function room() {
  const host = await open();
  const created = dataOf(
    await host.request("create_room", msgId("create"), {
      quiz_id: "fields-quiz",
      settings: { question_time_ms: 30_000 },
    }),
    "room_created",
  );
  return { host, created };
}

async function player(pin: string, name: string) {
  const s = await open();
  const joined = dataOf(
    await s.request("join", msgId("join"), { pin, display_name: name }),
    "joined",
  );
  return { s, joined };
}

describe("seed 000: question and reveal fields", () => {
  it("question carries body and options; reveal carries correct_choice, and per_user_stats: all for the host and spectators, only one's own for a player", async () => {
    const { host, created } = await room();
    const ann = await player(created.pin, "Ann");
    const ben = await player(created.pin, "Ben");
    const screen = await open();
    await screen.request("spectate", msgId("spectate"), { pin: created.pin });

    dataOf(await host.request("start", msgId("start")), "ack");
    const q = dataOf(await ann.s.next(isType("question")), "question");
    expect(q.body).toBe("Capital of France?");
    expect(q.options).toEqual(["Paris", "Rome"]);
    expect(serverValidators.question.Check(q)).toBe(true);

    await ann.s.request("answer", msgId("answer"), { index: 0, choice: 0 });
    await ben.s.request("answer", msgId("answer"), { index: 0, choice: 1 });

    const annReveal = dataOf(await ann.s.next(isType("reveal")), "reveal");
    expect(annReveal.correct_choice).toBe(0);
    expect(annReveal.per_user_stats).toEqual([
      {
        user_id: ann.joined.user_id,
        participant_id: ann.joined.participant_id,
        answered: true,
        correct: true,
        points: annReveal.you!.points,
        score: annReveal.you!.score,
        rank: 1,
        streak: 1,
      },
    ]);
    expect(serverValidators.reveal.Check(annReveal)).toBe(true);
    const benReveal = dataOf(await ben.s.next(isType("reveal")), "reveal");
    expect(benReveal.per_user_stats.map((e) => e.user_id)).toEqual([ben.joined.user_id]);
    expect(benReveal.per_user_stats[0]).toMatchObject({ correct: false, points: 0, rank: 2 });

    for (const staff of [host, screen]) {
      const r = dataOf(await staff.next(isType("reveal")), "reveal");
      expect(r.you).toBeNull();
      expect(r.correct_choice).toBe(0);
      expect(r.per_user_stats.map((e) => [e.user_id, e.rank, e.correct])).toEqual([
        [ann.joined.user_id, 1, true],
        [ben.joined.user_id, 2, false],
      ]);
      expect(serverValidators.reveal.Check(r)).toBe(true);
    }
  });
});

describe("seed 000: kick {user_id, reason}", () => {
  it("the host kicks a player by user id over the WebSocket", async () => {
    const { host, created } = await room();
    const ann = await player(created.pin, "Ann");
    const ack = await host.request("kick", msgId("kick"), {
      user_id: ann.joined.user_id,
      reason: "spam",
    });
    expect(dataOf(ack, "ack")).toMatchObject({ type: "kick" });
    expect(dataOf(await ann.s.next(isType("kick")), "kick").reason).toBe("spam");
    await ann.s.closed();
    expect(ann.s.closeCode).toBe(4003);
    const left = dataOf(await host.next(isType("player_left")), "player_left");
    expect(left).toMatchObject({ user_id: ann.joined.user_id, reason: "kicked" });
  });

  it("a user id that is nobody's, or both ids at once, is refused and changes nothing", async () => {
    const { host, created } = await room();
    const ann = await player(created.pin, "Ann");
    const none = await host.request("kick", msgId("kick"), { user_id: "nobody-here" });
    expect(dataOf(none, "error")).toMatchObject({ code: "NOT_FOUND", reason: "no_player" });
    const both = await host.request("kick", msgId("kick"), {
      user_id: ann.joined.user_id,
      participant_id: ann.joined.participant_id,
    });
    expect(dataOf(both, "error")).toMatchObject({ code: "VALIDATION", reason: "bad_data" });
    expect(ann.s.closeCode).toBeNull();
  });

  it("POST /internal/rooms/{id}/kick takes user_id as well as participant_id", async () => {
    const { created } = await room();
    const ann = await player(created.pin, "Ann");
    const ben = await player(created.pin, "Ben");
    const res = await fetch(`${base}/internal/rooms/${created.room_id}/kick`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: ann.joined.user_id, reason: "admin says so" }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(dataOf(await ann.s.next(isType("kick")), "kick").reason).toBe("admin says so");
    const byParticipant = await fetch(`${base}/internal/rooms/${created.room_id}/kick`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ participant_id: ben.joined.participant_id }),
    });
    expect(byParticipant.status).toBe(200);
    const unknown = await fetch(`${base}/internal/rooms/${created.room_id}/kick`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: "nobody-here" }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "NOT_FOUND", reason: "no_player" });
  });
});

describe("seed 000: error codes", () => {
  it("an unexpected server failure is answered with the seed's UNKNOWN code", async () => {
    const { host, created } = await room();
    const handle = (await t.app.sessions.find(created.room_id))!;
    vi.spyOn(handle, "execute").mockRejectedValueOnce(new Error("bug"));
    const failed = await host.request("lock", msgId("lock"), { locked: true });
    expect(dataOf(failed, "error")).toEqual({
      code: "UNKNOWN",
      msg: "internal error",
      reason: "internal",
      retryable: true,
    });
    // Nothing was applied, and the next message works.
    expect(
      dataOf(await host.request("lock", msgId("lock"), { locked: true }), "ack"),
    ).toMatchObject({
      type: "lock",
    });
  });
});
