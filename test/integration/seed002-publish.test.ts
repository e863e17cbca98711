import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { answerChannel, RedisAnswerFeed } from "../../src/adapters/redis/redis-answer-feed.js";
import { RedisConnection } from "../../src/adapters/redis/redis-connection.js";
import { asParticipantId, asSessionId } from "../../src/domain/ids.js";
import { eventually } from "../support/eventually.js";
import { adminClient, deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/**
 * Seed 002's architecture: "Submit Answer API → update scores → PUBLISH to
 * quiz:updates:{quiz_id} → Redis Pub/Sub distributes to ALL subscribers", with
 * the message `{participant_id, score}`. A plain Redis subscriber, written from
 * the seed alone, listens on that channel.
 */

interface Notice {
  participant_id: string;
  score: number;
}

/** A subscriber of seed 002's channels, as another program would hold one. */
async function subscriber(): Promise<{
  client: Redis;
  heard: Map<string, Notice[]>;
  listen(quizId: string): Promise<void>;
}> {
  const client = await adminClient(TEST_REDIS_URL);
  const heard = new Map<string, Notice[]>();
  client.on("message", (channel: string, message: string) => {
    const list = heard.get(channel) ?? [];
    list.push(JSON.parse(message) as Notice);
    heard.set(channel, list);
  });
  return {
    client,
    heard,
    async listen(quizId) {
      await client.subscribe(`quiz:updates:${quizId}`);
    },
  };
}

const redis = requireOrSkip(await redisAvailable());

describe.skipIf(redis.skip)(
  redis.title("seed 002: stored answers on quiz:updates:{quiz_id}"),
  () => {
    let t: TestApp;
    let base: string;
    let prefix: string;
    let sub: Awaited<ReturnType<typeof subscriber>>;

    beforeAll(async () => {
      prefix = randomKeyPrefix();
      t = await createTestApp({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix });
      base = `http://127.0.0.1:${await t.app.listen()}`;
      sub = await subscriber();
    });

    afterAll(async () => {
      await sub?.client.quit();
      await t?.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    });

    async function call(path: string, body: unknown) {
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    it("every stored answer, right or wrong, is published with the participant's new score", async () => {
      const quizId = (await call("/quizzes", { from_quiz: "vocab-101" })).body.quiz_id as string;
      await sub.listen(quizId);
      const kim = (await call(`/quizzes/${quizId}/participants`, { username: "kim" })).body
        .participant_id as string;
      const lee = (await call(`/quizzes/${quizId}/participants`, { username: "lee" })).body
        .participant_id as string;

      const right = await call(`/quizzes/${quizId}/answers`, {
        participant_id: kim,
        question_id: "q1",
        answer: "elated",
      });
      expect(right.status).toBe(200);
      const wrong = await call(`/quizzes/${quizId}/answers`, {
        participant_id: lee,
        question_id: "q1",
        answer: "bland",
      });
      expect(wrong.body).toMatchObject({ correct: false, points: 0 });
      // A refused answer is not stored, and so not published.
      const again = await call(`/quizzes/${quizId}/answers`, {
        participant_id: kim,
        question_id: "q1",
        answer: "elated",
      });
      expect(again.status).toBe(409);
      const kim2 = await call(`/quizzes/${quizId}/answers`, {
        participant_id: kim,
        question_id: "q2",
        answer: "antique",
      });
      expect(kim2.status).toBe(200);

      const channel = `quiz:updates:${quizId}`;
      const heard = await eventually(
        "three notices on the quiz's channel",
        () => sub.heard.get(channel),
        {
          until: (list) => (list?.length ?? 0) >= 3,
        },
      );
      expect(heard).toEqual([
        { participant_id: kim, score: right.body.score },
        { participant_id: lee, score: 0 },
        { participant_id: kim, score: kim2.body.score },
      ]);
    });
  },
);

describe.skipIf(redis.skip)(redis.title("RedisAnswerFeed"), () => {
  let conn: RedisConnection;
  let sub: Awaited<ReturnType<typeof subscriber>>;

  beforeAll(async () => {
    conn = await RedisConnection.open({ url: TEST_REDIS_URL, keyPrefix: randomKeyPrefix() });
    sub = await subscriber();
  });

  afterAll(async () => {
    await sub?.client.quit();
    await conn?.close();
  });

  it("what one turn stores goes out as one command at the end of the turn, each notice its own message, in order", async () => {
    const clock = new FakeClock(Date.now(), { deferred: "manual" });
    const errors: unknown[] = [];
    const feed = new RedisAnswerFeed(conn, clock, (err) => errors.push(err));
    const quiz = asSessionId(`feed-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    await sub.listen(quiz);
    const commands = vi.spyOn(conn.client, "sendCommand");

    for (let i = 1; i <= 50; i++) feed.answerStored(quiz, asParticipantId(`p_${i}`), i * 10);
    // Nothing is written while the turn runs: the answer path never waits on Redis.
    expect(commands).not.toHaveBeenCalled();
    clock.runDeferred();
    expect(commands).toHaveBeenCalledTimes(1);

    const heard = await eventually("fifty notices", () => sub.heard.get(answerChannel(quiz)), {
      until: (list) => (list?.length ?? 0) >= 50,
    });
    expect(heard).toEqual(
      Array.from({ length: 50 }, (_, k) => ({ participant_id: `p_${k + 1}`, score: (k + 1) * 10 })),
    );
    // The one command was the script (EVALSHA; EVAL once, the first time Redis meets it).
    const sent = commands.mock.calls.map(([command]) => command.name);
    commands.mockRestore();
    expect(sent[0]).toBe("evalsha");
    expect(sent.slice(1).every((name) => name === "eval")).toBe(true);
    expect(errors).toEqual([]);
  });
});
