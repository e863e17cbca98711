import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import { serverValidators } from "../../src/doors/canonical/protocol.js";
import { QuizwireError } from "../../src/sdk/index.js";
import {
  connectClient,
  dropConnection,
  EventLog,
  RawSocket,
  sdkClients,
} from "../support/clients.js";
import { choiceQuestion, quizOf, typedQuestion } from "../support/fixtures.js";
import { createTestApp } from "../support/test-app.js";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let t: TestApp;
let url: string;
let base: string;
const clients = sdkClients(() => url);

const client = clients.open;

beforeAll(async () => {
  // One raw client here sends a burst of bad frames faster than seed 000's 10 messages/s per user
  // to see each one's error; that per-user limit has its own tests (test/integration/limits.test.ts).
  t = await createTestApp(
    {},
    { canonicalLimits: { userMessages: { limit: 1_000, windowMs: 1_000 } } },
  );
  const port = await t.app.listen();
  url = `ws://127.0.0.1:${port}/ws/v1`;
  base = `http://127.0.0.1:${port}`;
  await t.app.storage.quizzes.put(
    quizOf(
      [
        choiceQuestion("q1", { correct: [0] }),
        choiceQuestion("q2", { correct: [1] }),
        choiceQuestion("q3", { correct: [2] }),
      ],
      "it-quiz",
    ),
  );
  await t.app.storage.quizzes.put(
    quizOf(
      [typedQuestion("w1", ["ephemeral"]), typedQuestion("w2", ["ubiquitous", "omnipresent"])],
      "it-vocab",
    ),
  );
});

afterAll(async () => {
  clients.closeAll();
  await t.close();
});

async function hostRoom(
  mode: "live" | "quick_fire" | "self_paced",
  settings = {},
  quizId = "it-quiz",
) {
  const host = await client();
  const room = await host.createRoom({ quizId, mode, settings, hostName: "Quizmaster" });
  return { host, room };
}

async function player(pin: string, name: string) {
  const c = await client();
  const joined = await c.join({ pin, displayName: name });
  return { c, joined };
}

describe("canonical protocol: a full live game", () => {
  it("host and three players play to the end; scores and leaderboard change in real time", async () => {
    const { host, room } = await hostRoom("live", { question_time_ms: 2_000 });
    expect(room.pin).toMatch(/^[1-9]\d{5}$/);
    const hostLog = new EventLog(host, [
      "player_joined",
      "question",
      "question_closed",
      "reveal",
      "end",
    ]);
    const ann = await player(room.pin, "Ann");
    const bob = await player(room.pin, "Bob");
    const cyd = await player(room.pin, "Cyd");
    const logs = [ann, bob, cyd].map(
      (p) => new EventLog(p.c, ["question", "question_closed", "reveal", "end"]),
    );
    const [annLog, bobLog] = logs as [EventLog, EventLog, EventLog];
    expect(ann.joined.state.you?.name).toBe("Ann");
    await hostLog.wait<ServerData<"player_joined">>(
      "player_joined",
      (p) => p.participant.name === "Cyd",
    );
    expect(
      hostLog.all<ServerData<"player_joined">>("player_joined").map((p) => p.participant.name),
    ).toEqual(["Ann", "Bob", "Cyd"]);

    // Question 1: everybody answers; the reveal comes as soon as all have.
    await host.start();
    const q = await annLog.wait<ServerData<"question">>("question");
    expect(q.index).toBe(0);
    expect(q.deadline_ms).toBeGreaterThan(Date.now() - 1_000);
    expect(JSON.stringify(q)).not.toContain("correct");
    expect(serverValidators.question.Check(q)).toBe(true);

    const aAck = await ann.c.answer(0, { choice: 0 });
    expect(aAck).toMatchObject({ correct: true, accepted: true });
    expect(aAck.points).toBeGreaterThan(500);
    const bAck = await bob.c.answer(0, { choice: 3 });
    expect(bAck).toMatchObject({ correct: false, points: 0, score: 0 });
    await cyd.c.answer(0, { choice: 0 });
    const r = await annLog.wait<ServerData<"reveal">>("reveal", (x) => x.index === 0);
    expect(r.correct.indices).toEqual([0]);
    expect(r.option_counts).toEqual([2, 0, 0, 1]);
    expect(r.you).toMatchObject({ answered: true, correct: true, rank: 1, score: aAck.score });
    expect(r.leaderboard[0]?.name).toBe("Ann");
    expect(
      (await hostLog.wait<ServerData<"reveal">>("reveal", (x) => x.index === 0)).you,
    ).toBeNull();
    expect(serverValidators.reveal.Check(r)).toBe(true);

    // Question 2: Bob answers after the deadline and is refused with STATE (T-2).
    await host.nextQuestion();
    await bobLog.wait<ServerData<"question">>("question", (x) => x.index === 1);
    await ann.c.answer(1, { choice: 1 });
    await bobLog.wait<ServerData<"question_closed">>("question_closed", (x) => x.index === 1);
    const late = await bob.c.answer(1, { choice: 1 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(QuizwireError);
    expect((late as QuizwireError).code).toBe("STATE");
    await hostLog.wait<ServerData<"reveal">>("reveal", (x) => x.index === 1);

    // Question 3, then the end with a podium and each player's own result.
    await host.nextQuestion();
    await annLog.wait<ServerData<"question">>("question", (x) => x.index === 2);
    for (const p of [ann, bob, cyd]) await p.c.answer(2, { choice: 2 });
    await hostLog.wait<ServerData<"reveal">>("reveal", (x) => x.index === 2);
    await host.nextQuestion();
    const end = await annLog.wait<ServerData<"end">>("end");
    expect(end.reason).toBe("finished");
    expect(end.podium.map((s) => s.name)[0]).toBe("Ann");
    expect(end.you).toMatchObject({ rank: 1, total: 3 });
    expect(serverValidators.end.Check(end)).toBe(true);

    // Results: every acknowledged answer is there.
    const res = await fetch(`${base}/api/v1/sessions/${room.roomId}/results`);
    expect(res.status).toBe(200);
    const results = (await res.json()) as { players: Array<{ name: string; score: number }> };
    const annRow = results.players.find((p) => p.name === "Ann")!;
    expect(annRow.score).toBe(end.you?.score);
    const csv = await (await fetch(`${base}/api/v1/sessions/${room.roomId}/results.csv`)).text();
    expect(csv.split("\n")[0]).toContain("participant_id");
    expect(csv).toContain("Ann");
  });

  it("A-6: a retried msg_id has no second effect and gets the original reply", async () => {
    const { host, room } = await hostRoom("live", {
      question_time_ms: 5_000,
      allow_answer_change: true,
    });
    const raw = await RawSocket.open(url);
    const joined = await raw.request("join", "j1", { pin: room.pin, display_name: "Raw" });
    expect(joined.type).toBe("joined");
    const other = await player(room.pin, "Other");
    const opened = raw.next((f) => f.type === "question");
    await host.start();
    await opened;
    const first = await raw.request("answer", "a1", { index: 0, choice: 0 });
    expect(first.type).toBe("score");
    const again = await raw.request("answer", "a1", { index: 0, choice: 0 });
    expect(again).toEqual(first);
    // A different msg_id is a new answer (changes are allowed here), so it does count.
    const changed = await raw.request("answer", "a2", { index: 0, choice: 1 });
    expect((changed.data as ServerData<"score">).changed).toBe(true);
    await other.c.answer(0, { choice: 0 });
    raw.close();
  });

  it("A-6: a retried join gets its first `joined` and today's `state`, not the one remembered", async () => {
    const { room } = await hostRoom("live");
    const raw = await RawSocket.open(url);
    const joined = await raw.request("join", "j1", { pin: room.pin, display_name: "Raw" });
    const firstState = await raw.next((f) => f.type === "state" && f.msg_id === "j1");
    expect((firstState.data as ServerData<"state">).player_count).toBe(1);
    await player(room.pin, "Other");
    const before = raw.frames.length;
    const again = await raw.request("join", "j1", { pin: room.pin, display_name: "Raw" });
    expect(again).toEqual(joined);
    // The snapshot is made anew (it is not kept with the reply): it shows the player who joined since.
    const fresh = await raw.next((f) => f.type === "state" && raw.frames.indexOf(f) >= before);
    expect((fresh.data as ServerData<"state">).player_count).toBe(2);
    raw.close();
  });

  it("R-3: a kicked player is told why, disconnected, and refused on rejoin while banned", async () => {
    const { host, room } = await hostRoom("live", { ban_ms: 60_000 });
    const eve = await player(room.pin, "Eve");
    const kicked = eve.c.once("kick");
    const left = host.once("player_left");
    const closed = eve.c.once("disconnected");
    await host.kick(eve.joined.joined.participant_id, "spamming");
    expect(((await kicked) as ServerData<"kick">).reason).toBe("spamming");
    expect(((await left) as ServerData<"player_left">).reason).toBe("kicked");
    const d = (await closed) as { code: number; willReconnect: boolean };
    expect(d.code).toBe(4003);
    expect(d.willReconnect).toBe(false);
    // Same identity, new connection, new name: still banned.
    const again = await connectClient(url, { identityToken: eve.c.identityToken ?? undefined });
    clients.track(again);
    const refused = await again
      .join({ pin: room.pin, displayName: "Eve2" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "FORBIDDEN", reason: "banned" });
  });

  it("a player who loses the connection resumes with the same score and streak", async () => {
    const { host, room } = await hostRoom("live", { question_time_ms: 5_000 });
    const ann = await player(room.pin, "Ann");
    await player(room.pin, "Bob");
    const q = ann.c.once("question");
    await host.start();
    await q;
    const ack = await ann.c.answer(0, { choice: 0 });
    const resumed = ann.c.once("resumed");
    // Drop the socket under the client's feet, as a flaky network would.
    dropConnection(ann.c);
    const r = (await resumed) as { state: ServerData<"state"> };
    expect(r.state.you?.participant_id).toBe(ann.joined.joined.participant_id);
    expect(r.state.you?.score).toBe(ack.score);
    expect(r.state.you?.streak).toBe(1);
    expect(r.state.you?.answered_current).toBe(true);
  });
});

describe("canonical protocol: quick_fire and self_paced", () => {
  it("M-2/T-4: the first correct answer closes the question for everyone", async () => {
    const { host, room } = await hostRoom("quick_fire", { reveal_ms: 100 });
    const a = await player(room.pin, "Ann");
    const b = await player(room.pin, "Bob");
    const q = a.c.once("question");
    await host.start();
    expect(((await q) as ServerData<"question">).deadline_ms).toBeGreaterThan(0);
    const closed = b.c.once("question_closed");
    expect((await a.c.answer(0, { choice: 2 })).correct).toBe(false);
    expect((await b.c.answer(0, { choice: 0 })).correct).toBe(true);
    expect(((await closed) as ServerData<"question_closed">).reason).toBe("first_correct");
    const refused = await a.c.answer(0, { choice: 0 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "STATE" });
    // The reveal advances by itself; the rest of the contest plays out to the end.
    const log = new EventLog(a.c, ["question", "end"]);
    for (const index of [1, 2]) {
      await log.wait<ServerData<"question">>("question", (x) => x.index === index);
      expect((await a.c.answer(index, { choice: index })).correct).toBe(true);
    }
    const end = await log.wait<ServerData<"end">>("end");
    expect(end.reason).toBe("finished");
    expect(end.podium.map((s) => s.name)).toEqual(["Ann", "Bob"]);
  });

  it("M-3: a self-paced learner is served questions one by one with the answer shown at once", async () => {
    const { host, room } = await hostRoom("self_paced", {}, "it-vocab");
    const learner = await player(room.pin, "Lea");
    const served = learner.c.once("question");
    await host.start();
    const first = (await served) as ServerData<"question">;
    expect(first.index).toBe(0);
    const board = learner.c.once("leaderboard");
    const ack = await learner.c.answer(0, { text: "  Ephemeral " });
    expect(ack.correct).toBe(true);
    expect(ack.points).toBeGreaterThanOrEqual(10);
    expect(ack.correct_answer?.texts).toEqual(["ephemeral"]);
    // The leaderboard is pushed (batched within 100 ms) with the learner's own rank.
    const lb = (await board) as ServerData<"leaderboard">;
    expect(lb.leaderboard[0]).toMatchObject({ name: "Lea", score: ack.score });
    expect(lb.your_rank).toBe(1);
    const second = await learner.c.nextQuestion();
    expect(second?.index).toBe(1);
    const wrong = await learner.c.answer(1, { text: "everywhere" });
    expect(wrong.correct).toBe(false);
    expect(await learner.c.nextQuestion()).toBeNull();
    const ended = learner.c.once("end");
    await host.end();
    const end = (await ended) as ServerData<"end">;
    expect(end).toMatchObject({ reason: "host_ended", you: { rank: 1, score: ack.score } });
  });
});

describe("canonical protocol: hostile input", () => {
  it("every kind of bad frame gets its error code while the server keeps serving others", async () => {
    const { host, room } = await hostRoom("live");
    const bystander = await player(room.pin, "Calm");
    const raw = await RawSocket.open(url);
    const errors: Array<{ code: string; reason?: string }> = [];
    const expectError = async (send: () => void, reason: string) => {
      const before = raw.frames.length;
      send();
      const f = await raw.next((x) => x.type === "error" && raw.frames.indexOf(x) >= before);
      const data = f.data as ServerData<"error">;
      errors.push(data);
      expect(data.reason).toBe(reason);
      return data;
    };
    await expectError(() => raw.send("{not json"), "bad_json");
    await expectError(
      () => raw.send({ v: 2, type: "ping", msg_id: "x", data: {} }),
      "bad_envelope",
    );
    await expectError(() => raw.send({ v: 1, type: "ping", data: {} }), "bad_envelope");
    await expectError(
      () => raw.send({ v: 1, type: "teleport", msg_id: "1", data: {} }),
      "unknown_type",
    );
    await expectError(
      () => raw.send({ v: 1, type: "join", msg_id: "2", data: { pin: 123456, display_name: "x" } }),
      "bad_data",
    );
    const big = await expectError(
      () => raw.send({ v: 1, type: "ping", msg_id: "3", data: { pad: "x".repeat(11_000) } }),
      "frame_too_large",
    );
    expect(big.code).toBe("VALIDATION");
    const notJoined = await raw.request("answer", "4", { index: 0, choice: 0 });
    expect((notJoined.data as ServerData<"error">).reason).toBe("not_joined");
    const wrongPin = await raw.request("join", "5", { pin: "999999", display_name: "Nobody" });
    expect((wrongPin.data as ServerData<"error">).code).toBe("NOT_FOUND");
    const notHost = await raw.request("join", "6", { pin: room.pin, display_name: "Mallory" });
    expect(notHost.type).toBe("joined");
    const start = await raw.request("start", "7");
    expect(start.data as ServerData<"error">).toMatchObject({
      code: "FORBIDDEN",
      reason: "not_host",
    });
    const badAnswer = await raw.request("answer", "8", { index: 0, choice: 1, text: "both" });
    expect((badAnswer.data as ServerData<"error">).reason).toBe("bad_answer");
    for (const e of errors) expect(serverValidators.error.Check(e)).toBe(true);

    // The bystander is unaffected.
    const pong = await bystander.c.ping();
    expect(pong.rttMs).toBeGreaterThanOrEqual(0);
    expect((await host.sync()).player_count).toBe(2);

    // A connection that keeps sending garbage is closed with a code and reason.
    for (let i = 0; i < 12; i++) raw.send("garbage");
    await raw.closed();
    expect(raw.closeCode).toBe(4002);
    expect(raw.closeReason).toMatch(/invalid/);
    expect((await bystander.c.ping()).rttMs).toBeGreaterThanOrEqual(0);
  });

  it("frames far beyond the limit close the connection with 1009", async () => {
    const raw = await RawSocket.open(url);
    raw.send("x".repeat(70_000));
    await raw.closed();
    expect(raw.closeCode).toBe(1009);
  });

  it("a flood is rate limited with RATE_LIMIT errors", async () => {
    const raw = await RawSocket.open(url);
    for (let i = 0; i < 60; i++) raw.send({ v: 1, type: "ping", msg_id: `p${i}`, data: {} });
    const limited = await raw.next(
      (f) => f.type === "error" && (f.data as ServerData<"error">).code === "RATE_LIMIT",
    );
    expect((limited.data as ServerData<"error">).retryable).toBe(true);
    raw.close();
  });
});
