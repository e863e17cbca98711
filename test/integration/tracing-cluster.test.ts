/**
 * One answer's trace across two instances (issue 11, "Observability"): a
 * player connected to one instance answers in a room another instance owns;
 * the trace context travels with the forwarded command, so the spans of both
 * processes — the message and its forwarding on one, the served command, the
 * room's answer and its group commit on the other — form one trace at the
 * OTLP receiver. Then the owner is killed and the survivor's log says it took
 * the session over.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuizwireClient } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { ServerProcess } from "../support/server-process.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  redisAvailable,
  requireOrSkip,
  TEST_REDIS_URL,
} from "../support/services.js";

const services = requireOrSkip(await postgresAvailable(), await redisAvailable());

const QUIZ = {
  id: "traced-quiz",
  title: "Traced quiz",
  questions: [
    { id: "t1", text: "One?", options: ["A", "B", "C", "D"], correct: [2], time_limit_ms: 60_000 },
  ],
};
const ROOM_ID = "quizwire.room_id";
const INSTANCE = "service.instance.id";

describe.skipIf(services.skip)(services.title("one answer traced across two instances"), () => {
  let receiver: OtlpReceiver;
  let schema: PgSchema;
  let prefix: string;
  const servers: ServerProcess[] = [];
  const clients: QuizwireClient[] = [];
  let roomId = "";

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    schema = await freshPgSchema();
    prefix = randomKeyPrefix();
    const env = {
      DATABASE_URL: schema.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      PORT: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_TRACES_SAMPLER_ARG: "1",
      // Export every 100 ms rather than every 5 s, so the test waits for little.
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    // One at a time, so migrations are in place before the second starts.
    servers.push(await ServerProcess.start(env));
    servers.push(await ServerProcess.start(env));
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.kill();
    await receiver?.close();
    await schema?.drop();
    if (prefix) await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it("the player's instance forwards the answer with its trace context; the owner's spans join that trace", async () => {
    const [owner, other] = servers as [ServerProcess, ServerProcess];
    const res = await fetch(`http://127.0.0.1:${owner.port}/api/v1/quizzes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(QUIZ),
    });
    expect([200, 201]).toContain(res.status);
    const host = await connectClient(`ws://127.0.0.1:${owner.port}/ws/v1`);
    clients.push(host);
    const room = await host.createRoom({ quizId: QUIZ.id, mode: "live", hostName: "Host" });
    roomId = room.roomId;
    const player = await connectClient(`ws://127.0.0.1:${other.port}/ws/v1`);
    clients.push(player);
    const log = new EventLog(player, ["question"]);
    await player.join({ pin: room.pin, displayName: "Far" });
    await host.start();
    await log.wait("question");
    const ack = await player.answer(0, { choice: 2 });
    expect(ack.correct).toBe(true);

    const spans = await eventually(
      "the answer's five spans at the receiver",
      () => {
        const message = receiver.find(
          (s) => s.name === "ws answer" && s.attributes[ROOM_ID] === room.roomId,
        )[0];
        if (!message) return null;
        const inTrace = (name: string) =>
          receiver.find((s) => s.traceId === message.traceId && s.name === name)[0];
        const chain = {
          message,
          forward: inTrace("forward answer"),
          serve: inTrace("serve answer"),
          command: inTrace("room answer"),
          commit: inTrace("storage commit"),
        };
        return Object.values(chain).every((s) => s !== undefined)
          ? (chain as Record<keyof typeof chain, ReceivedSpan>)
          : null;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    const { message, forward, serve, command, commit } = spans;
    // Each span under the one before it, across the two processes.
    expect(forward.parentSpanId).toBe(message.spanId);
    expect(serve.parentSpanId).toBe(forward.spanId);
    expect(command.parentSpanId).toBe(serve.spanId);
    expect(commit.parentSpanId).toBe(command.spanId);
    // The player's instance: the message and its forwarding; the owner: the rest.
    const playerSide = message.resource[INSTANCE];
    const ownerSide = serve.resource[INSTANCE];
    expect(playerSide).toBeTruthy();
    expect(ownerSide).toBeTruthy();
    expect(playerSide).not.toBe(ownerSide);
    expect(forward.resource[INSTANCE]).toBe(playerSide);
    expect(command.resource[INSTANCE]).toBe(ownerSide);
    expect(commit.resource[INSTANCE]).toBe(ownerSide);
    expect(forward.attributes["quizwire.owner"]).toBe(ownerSide);
    expect(serve.attributes["quizwire.origin"]).toBe(playerSide);
    for (const s of [message, forward, serve, command]) {
      expect(s.attributes).toMatchObject({ [ROOM_ID]: room.roomId, "quizwire.msg_type": "answer" });
    }
    expect(receiver.refused).toEqual([]);
  }, 60_000);

  it("the instance that takes the session over after its owner died logs it, as a structured line", async () => {
    expect(roomId).not.toBe("");
    const [owner, other] = servers as [ServerProcess, ServerProcess];
    await owner.kill("SIGKILL");
    // The player's instance watches the room, so it takes the session over without being asked.
    const line = await eventually(
      "the takeover line in the surviving instance's output",
      () =>
        other.output
          .join("")
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.message === "instance took over the session" && l.room_id === roomId),
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(line).toMatchObject({ severity: "INFO", msg_type: "took_over", epoch: 2 });
  }, 30_000);
});
