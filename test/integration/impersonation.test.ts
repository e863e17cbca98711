import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawSocket } from "../support/clients.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

// R-5 (a player acts only for themselves) and invariant 6 of the brief: knowing someone's
// participant id — which every player sees in `state` and in reveal leaderboards — is never
// enough to act as them. Written from docs/protocol.md, docs/protocols/seed-002.md and
// docs/errors.md only: raw WebSocket frames and fetch.

const SECRET = "impersonation-test-secret-0123456789";
const key = new TextEncoder().encode(SECRET);

let t: TestApp;
let base: string;
let wsUrl: string;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  t = await createTestApp({ JWT_SECRET: SECRET });
  const port = await t.app.listen();
  base = `http://127.0.0.1:${port}`;
  wsUrl = `ws://127.0.0.1:${port}/ws/v1`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t.close();
});

async function jwt(sub: string): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);
}

async function socket(query = ""): Promise<RawSocket> {
  const s = await RawSocket.open(`${wsUrl}${query}`);
  sockets.push(s);
  return s;
}

type Json = Record<string, unknown>;

async function post(
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

function dataOf(frame: { data?: unknown }): Json {
  return frame.data as Json;
}

/** A room hosted over /ws/v1 with one player joined by PIN; the question 0 open when `start`. */
async function hostedRoom(mode: "live" | "quick_fire" | "self_paced", start: boolean) {
  const host = await socket();
  const created = await host.request("create_room", "c1", { quiz_id: "vocab-101", mode });
  expect(created.type).toBe("room_created");
  const room = dataOf(created);
  const victim = await socket();
  const joined = await victim.request("join", "j1", { pin: room.pin, display_name: "Victim" });
  expect(joined.type).toBe("joined");
  const participantId = dataOf(joined).participant_id as string;
  let questionId: string | null = null;
  if (start) {
    expect((await host.request("start", "s1")).type).toBe("ack");
    if (mode !== "self_paced") {
      const q = await victim.next((f) => f.type === "question");
      questionId = (dataOf(q).question as Json).id as string;
    }
  }
  return { host, victim, roomId: room.room_id as string, participantId, questionId };
}

describe("R-5: nobody answers for another player", () => {
  it("R-5: POST /quizzes/{id}/answers with only a live player's participant_id is refused, and the player's own answer still counts", async () => {
    const { victim, roomId, participantId, questionId } = await hostedRoom("live", true);
    const forged = await post(`/quizzes/${roomId}/answers`, {
      participant_id: participantId,
      question_id: questionId,
      answer: "anything",
    });
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: "UNAUTHORIZED", reason: "token_required" });

    const own = await victim.request("answer", "a1", { index: 0, choice: 0 });
    expect(own.type).toBe("score");
    expect(dataOf(own).accepted).toBe(true);
  });

  it("R-5: the same holds in a quick_fire room", async () => {
    const { victim, roomId, participantId, questionId } = await hostedRoom("quick_fire", true);
    const forged = await post(`/quizzes/${roomId}/answers`, {
      participant_id: participantId,
      question_id: questionId,
      answer: "anything",
    });
    expect(forged.status).toBe(401);
    const own = await victim.request("answer", "a1", { index: 0, choice: 0 });
    expect(own.type).toBe("score");
  });

  it("R-5: a self_paced player who joined through another door is not answerable by participant id", async () => {
    const { roomId, participantId } = await hostedRoom("self_paced", true);
    const forged = await post(`/quizzes/${roomId}/answers`, {
      participant_id: participantId,
      question_id: "q1",
      answer: "anything",
    });
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: "UNAUTHORIZED", reason: "token_required" });
  });

  it("R-5: another user's JWT or another player's resume token is 403 not_player; the player's own JWT answers", async () => {
    const host = await socket();
    const created = await host.request("create_room", "c1", { quiz_id: "vocab-101", mode: "live" });
    const room = dataOf(created);
    const victim = await socket(`?token=${await jwt("victim-user")}`);
    const joined = dataOf(
      await victim.request("join", "j1", { pin: room.pin, display_name: "Victim" }),
    );
    const other = await socket();
    const otherJoined = dataOf(
      await other.request("join", "j1", { pin: room.pin, display_name: "Other" }),
    );
    await host.request("start", "s1");
    const q = await victim.next((f) => f.type === "question");
    const questionId = (dataOf(q).question as Json).id as string;
    const body = { participant_id: joined.participant_id, question_id: questionId };

    const wrongJwt = await post(
      `/quizzes/${room.room_id}/answers`,
      { ...body, answer: "x" },
      await jwt("mallory"),
    );
    expect(wrongJwt.status).toBe(403);
    expect(wrongJwt.body).toMatchObject({ code: "FORBIDDEN", reason: "not_player" });
    const wrongToken = await post(
      `/quizzes/${room.room_id}/answers`,
      { ...body, answer: "x" },
      otherJoined.resume_token as string,
    );
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.body).toMatchObject({ code: "FORBIDDEN", reason: "not_player" });
    const forgedJwt = await post(
      `/quizzes/${room.room_id}/answers`,
      { ...body, answer: "x" },
      "a.b.c",
    );
    expect(forgedJwt.status).toBe(401);
    expect(forgedJwt.body).toMatchObject({ code: "UNAUTHORIZED", reason: "invalid_token" });

    const options = (dataOf(q).question as Json).options as string[];
    const own = await post(
      `/quizzes/${room.room_id}/answers`,
      { ...body, answer: options[0] },
      await jwt("victim-user"),
    );
    expect(own.status).toBe(200);
  });

  it("R-5: in seed 002's own self_paced quiz the participant id still answers (the seed's credential)", async () => {
    const created = await post("/quizzes", { from_quiz: "vocab-101" });
    const quizId = created.body.quiz_id as string;
    const joined = await post(`/quizzes/${quizId}/participants`, { username: "alice_dev" });
    const pid = joined.body.participant_id as string;
    const first = await post(`/quizzes/${quizId}/answers`, {
      participant_id: pid,
      question_id: "q1",
      answer: "nothing-like-an-option",
    });
    // Past the credential check: the answer itself is judged (it names no option).
    expect(first.status).toBe(400);
    expect(first.body).toMatchObject({ code: "VALIDATION", reason: "bad_answer" });
  });
});
