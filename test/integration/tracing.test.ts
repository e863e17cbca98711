/**
 * OpenTelemetry traces of one server (issue 11, "Observability"): with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, spans for the upgrade, the join, the answer
 * (through the group commit to the acknowledgement), the question broadcast and
 * the reveal reach an OTLP/HTTP receiver, with the room id and message type as
 * attributes; without it, nothing is traced or sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connectClient, EventLog, sdkClients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const ROOM_ID = "quizwire.room_id";
const MSG_TYPE = "quizwire.msg_type";
const SERVER = 2;

let receiver: OtlpReceiver;
let t: TestApp;
let url: string;
const clients = sdkClients(() => url);

const client = clients.open;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  t = await createTestApp({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_TRACES_SAMPLER_ARG: "1",
    OTEL_SERVICE_NAME: "quizwire-test",
  });
  url = `ws://127.0.0.1:${await t.app.listen()}/ws/v1`;
  await t.app.storage.quizzes.put(
    quizOf([choiceQuestion("q1", { correct: [1] }), choiceQuestion("q2")], "trace-quiz"),
  );
});

afterAll(async () => {
  clients.closeAll();
  await t?.close();
  await receiver?.close();
});

/** Exports what the server buffered, then waits for spans matching `match` to arrive. */
async function spansWhere(match: (s: ReceivedSpan) => boolean, n = 1): Promise<ReceivedSpan[]> {
  return eventually(
    "spans at the OTLP receiver",
    async () => {
      await t.app.tracer?.flush();
      return receiver.find(match);
    },
    { until: (found) => found.length >= n, timeoutMs: 10_000, intervalMs: 50 },
  );
}

describe("tracing on (OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("an answer is one trace: its message, the room command and the group commit, ended at the acknowledgement", async () => {
    const host = await client();
    const room = await host.createRoom({ quizId: "trace-quiz", mode: "live", hostName: "Host" });
    const ann = await client();
    const log = new EventLog(ann, ["question", "reveal"]);
    await ann.join({ pin: room.pin, displayName: "Ann" });
    await host.start();
    await log.wait("question");
    const ack = await ann.answer(0, { choice: 1 });
    expect(ack.correct).toBe(true);
    await log.wait("reveal");

    const [message] = await spansWhere(
      (s) => s.name === "ws answer" && s.attributes[ROOM_ID] === room.roomId,
    );
    expect(message!.kind).toBe(SERVER);
    expect(message!.parentSpanId).toBe("");
    expect(message!.attributes).toMatchObject({
      [MSG_TYPE]: "answer",
      "quizwire.door": "canonical",
    });
    expect(message!.resource).toMatchObject({
      "service.name": "quizwire-test",
      "service.instance.id": t.app.instanceId,
    });
    const trace = message!.traceId;
    const [command] = await spansWhere((s) => s.traceId === trace && s.name === "room answer");
    expect(command!.parentSpanId).toBe(message!.spanId);
    expect(command!.attributes).toMatchObject({ [ROOM_ID]: room.roomId, [MSG_TYPE]: "answer" });
    // The commit that stored the answer: under the answer's command, or (when another traced
    // answer came first in the same transaction) linked to it.
    const commits = await spansWhere(
      (s) =>
        s.name === "storage commit" &&
        (s.parentSpanId === command!.spanId || s.links.some((l) => l.spanId === command!.spanId)),
    );
    expect(commits).toHaveLength(1);
    const commit = commits[0];
    expect(commit!.attributes["quizwire.writes"]).toBeGreaterThanOrEqual(1);
    // Nested in time too: the message's span lasts until the acknowledgement, which waited for
    // the room's reply, which waited for the commit. (Durations, not instants: each span anchors
    // its start to the wall clock in whole milliseconds.)
    const duration = (s: ReceivedSpan) => s.endNs - s.startNs;
    expect(duration(commit!)).toBeGreaterThan(0n);
    expect(duration(command!)).toBeGreaterThanOrEqual(duration(commit!));
    expect(duration(message!)).toBeGreaterThanOrEqual(duration(command!));
    expect(receiver.refused).toEqual([]);
  });

  it("the upgrade, the join, the question broadcast and the reveal have spans with the room id", async () => {
    const host = await client();
    const room = await host.createRoom({ quizId: "trace-quiz", mode: "live", hostName: "Host" });
    const bo = await client();
    const log = new EventLog(bo, ["question", "reveal"]);
    await bo.join({ pin: room.pin, displayName: "Bo" });
    await host.start();
    await log.wait("question");
    await bo.answer(0, { choice: 0 });
    await log.wait("reveal");

    const inRoom = (name: string) => (s: ReceivedSpan) =>
      s.name === name && s.attributes[ROOM_ID] === room.roomId;
    const [join] = await spansWhere(inRoom("ws join"));
    expect(join!.attributes[MSG_TYPE]).toBe("join");
    await spansWhere((s) => s.traceId === join!.traceId && s.name === "room join");
    const [question] = await spansWhere(inRoom("broadcast question"));
    expect(question!.attributes[MSG_TYPE]).toBe("question");
    const [reveal] = await spansWhere(inRoom("broadcast reveal"));
    expect(reveal!.attributes[MSG_TYPE]).toBe("reveal");
    const upgrades = await spansWhere(
      (s) => s.name === "ws upgrade" && s.attributes["http.response.status_code"] === 101,
    );
    expect(upgrades[0]!.attributes).toMatchObject({
      "quizwire.door": "canonical",
      "url.path": "/ws/v1",
    });
  });

  it("a refused upgrade's span carries its status and code, and not the token", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url}?token=forged-token`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("a forged token was accepted")));
      ws.on("error", () => undefined);
    });
    expect(status).toBe(401);
    const [refused] = await spansWhere(
      (s) => s.name === "ws upgrade" && s.attributes["http.response.status_code"] === 401,
    );
    expect(refused!.attributes).toMatchObject({
      "quizwire.error_code": "UNAUTHORIZED",
      "url.path": "/ws/v1",
    });
    expect(JSON.stringify(refused!.attributes)).not.toContain("forged-token");
  });
});

describe("tracing off (no endpoint)", () => {
  it("the server has no tracer at all, and games run", async () => {
    const off = await createTestApp();
    try {
      expect(off.app.tracer).toBeNull();
      const port = await off.app.listen();
      await off.app.storage.quizzes.put(quizOf([choiceQuestion("q1")], "off-quiz"));
      const host = await connectClient(`ws://127.0.0.1:${port}/ws/v1`);
      clients.track(host);
      const room = await host.createRoom({ quizId: "off-quiz", mode: "live", hostName: "Host" });
      expect(room.pin).toMatch(/^\d{6}$/);
    } finally {
      await off.close();
    }
  });
});
