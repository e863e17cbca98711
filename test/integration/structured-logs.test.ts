/**
 * The server's own log output for one game (issue 11, "Observability"): one
 * JSON line per lifecycle step with `room_id`, `user_id`, `msg_type`, a
 * severity word and — tracing on — the `trace_id` of what caused it; a
 * rate-limited WARN per class of client error; no display names or tokens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createApp } from "../../src/server/app.js";
import { connectClient, EventLog, RawSocket, sdkClients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { OtlpReceiver } from "../support/otlp-receiver.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

type Line = Record<string, unknown> & { severity: string; message: string };

/** Every line the server's logger writes, parsed (a line that is not JSON fails the test). */
class LogCapture {
  readonly text: string[] = [];
  readonly lines: Line[] = [];
  write(chunk: string): void {
    this.text.push(chunk);
    for (const l of chunk.split("\n")) if (l.trim() !== "") this.lines.push(JSON.parse(l) as Line);
  }
  where(message: string, roomId: string): Line[] {
    return this.lines.filter((l) => l.message === message && l.room_id === roomId);
  }
}

let capture: LogCapture;
let receiver: OtlpReceiver;
let t: TestApp;
let url: string;
const clients = sdkClients(() => url);

const client = clients.open;

beforeAll(async () => {
  capture = new LogCapture();
  receiver = await OtlpReceiver.start();
  t = await createTestApp(
    {
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_TRACES_SAMPLER_ARG: "1",
    },
    { logDestination: capture },
  );
  url = `ws://127.0.0.1:${await t.app.listen()}/ws/v1`;
  await t.app.storage.quizzes.put(quizOf([choiceQuestion("q1", { correct: [0] })], "log-quiz"));
});

afterAll(async () => {
  clients.closeAll();
  await t?.close();
  await receiver?.close();
});

describe("structured logs of one game", () => {
  it("a line per lifecycle step, with room, user, message type, severity word and trace id; no names or tokens", async () => {
    const host = await client();
    const room = await host.createRoom({
      quizId: "log-quiz",
      mode: "live",
      hostName: "Hostess Zelda",
    });
    const ann = await client();
    const bob = await client();
    const cyd = await client();
    const annLog = new EventLog(ann, ["question", "reveal", "end"]);
    const a = await ann.join({ pin: room.pin, displayName: "Ann Privateperson" });
    const b = await bob.join({ pin: room.pin, displayName: "Bob Secretname" });
    const c = await cyd.join({ pin: room.pin, displayName: "Cyd Hiddenname" });
    await host.kick(b.joined.participant_id, "being Bob");
    await cyd.leave();
    await host.start();
    await annLog.wait("question");
    await ann.answer(0, { choice: 0 });
    await annLog.wait("reveal");
    await host.nextQuestion();
    await annLog.wait("end");

    const id = room.roomId;
    await eventually("the room's end in the log", () => capture.where("room ended", id).length);
    const one = (message: string) => {
      const found = capture.where(message, id);
      expect(found, message).toHaveLength(1);
      return found[0]!;
    };
    expect(one("room created")).toMatchObject({ severity: "INFO", msg_type: "created" });
    expect(one("room started")).toMatchObject({ severity: "INFO", msg_type: "started" });
    expect(one("question opened")).toMatchObject({ msg_type: "question", index: 0 });
    expect(one("question closed")).toMatchObject({ msg_type: "question_closed", index: 0 });
    expect(one("room ended")).toMatchObject({ msg_type: "ended", reason: "finished" });
    expect(one("player kicked")).toMatchObject({
      severity: "INFO",
      msg_type: "participant_left",
      user_id: b.joined.user_id,
      participant_id: b.joined.participant_id,
    });
    expect(one("player left")).toMatchObject({ user_id: c.joined.user_id });
    const joined = capture.where("player joined", id);
    expect(joined.map((l) => l.user_id)).toEqual([
      a.joined.user_id,
      b.joined.user_id,
      c.joined.user_id,
    ]);
    for (const l of joined)
      expect(l).toMatchObject({ severity: "INFO", msg_type: "participant_joined" });

    // Tracing on: a join's line carries the trace of the join message that caused it.
    const annJoin = joined[0]!;
    expect(annJoin.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const traces = await eventually(
      "the join spans at the receiver",
      async () => {
        await t.app.tracer?.flush();
        return receiver
          .find((s) => s.name === "ws join" && s.attributes["quizwire.room_id"] === id)
          .map((s) => s.traceId);
      },
      { until: (ids) => ids.length === 3, intervalMs: 50 },
    );
    expect(traces).toContain(annJoin.trace_id);

    // PII-safe: no display name, resume token or kick reason anywhere in the output.
    const all = capture.text.join("");
    for (const secret of [
      "Hostess Zelda",
      "Privateperson",
      "Secretname",
      "Hiddenname",
      "being Bob",
      a.joined.resume_token,
      b.joined.resume_token,
      c.joined.resume_token,
    ]) {
      expect(all).not.toContain(secret);
    }
    // Every line names its severity as a word, its text as `message`, its time in ISO 8601.
    for (const l of capture.lines) {
      expect(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]).toContain(l.severity);
      expect(typeof l.message).toBe("string");
      expect(String(l.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(l).not.toHaveProperty("level");
    }
  });

  it("a line caused by a deadline carries no trace id: the traced command that armed the timer did not cause it", async () => {
    const host = await client();
    const room = await host.createRoom({
      quizId: "log-quiz",
      mode: "live",
      hostName: "Host",
      settings: { question_time_ms: 200 },
    });
    const dee = await client();
    const log = new EventLog(dee, ["question_closed"]);
    await dee.join({ pin: room.pin, displayName: "Dee" });
    await host.start();
    await log.wait("question_closed");
    const closed = await eventually("the deadline's line", () =>
      capture.where("question closed", room.roomId).at(0),
    );
    expect(closed).toMatchObject({ reason: "deadline" });
    expect(closed).not.toHaveProperty("trace_id");
    // The question itself was opened by the host's start, whose trace it carries.
    expect(capture.where("question opened", room.roomId)[0]?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("client errors: one WARN per class at a bounded pace, naming the door and the code", async () => {
    const raw = await RawSocket.open(url);
    try {
      for (let i = 0; i < 4; i++) {
        raw.send("{not json");
        await raw.next(
          (f) => f.type === "error" && raw.frames.filter((x) => x.type === "error").length > i,
        );
      }
    } finally {
      raw.close();
    }
    const warns = capture.lines.filter(
      (l) => l.severity === "WARNING" && l.door === "canonical" && l.code === "VALIDATION",
    );
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ suppressed: 0 });
    expect(JSON.stringify(warns[0])).not.toContain("not json");
  });
});

describe("a restarted server", () => {
  it("logs each session it resumes", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "quizwire-logs-"));
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    });
    try {
      const first = await createApp({ config, logDestination: new LogCapture() });
      let roomId: string;
      try {
        await first.storage.quizzes.put(quizOf([choiceQuestion("q1")], "resume-quiz"));
        const host = await connectClient(`ws://127.0.0.1:${await first.listen()}/ws/v1`);
        roomId = (await host.createRoom({ quizId: "resume-quiz", mode: "live", hostName: "H" }))
          .roomId;
        host.close();
      } finally {
        await first.close();
      }
      const again = new LogCapture();
      const second = await createApp({ config, logDestination: again });
      await second.close();
      expect(again.where("session resumed after a restart", roomId)).toEqual([
        expect.objectContaining({ severity: "INFO", msg_type: "resumed", epoch: 2 }),
      ]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
