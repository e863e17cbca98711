import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import type { QuizwireClient, ScoreData } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { ServerProcess } from "../support/server-process.js";

const dataDir = mkdtempSync(join(tmpdir(), "quizwire-crash-"));
const servers: ServerProcess[] = [];
const clients: QuizwireClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a server killed with SIGKILL mid-question, then stopped gracefully", () => {
  it("restarts on the same database, the clients resume by themselves, the game finishes and no acknowledged answer is lost", async () => {
    const first = await ServerProcess.start({ DATA_DIR: dataDir, PORT: "0" });
    servers.push(first);
    const url = `ws://127.0.0.1:${first.port}/ws/v1`;
    const connect = async () => {
      const c = await connectClient(url, { reconnect: { initialDelayMs: 50, maxDelayMs: 250 } });
      clients.push(c);
      return c;
    };

    const host = await connect();
    const room = await host.createRoom({
      quizId: "general-knowledge",
      mode: "live",
      settings: { question_time_ms: 60_000 },
    });
    const players = [await connect(), await connect(), await connect()];
    const names = ["Ann", "Bob", "Cyd"];
    for (const [i, p] of players.entries()) await p.join({ pin: room.pin, displayName: names[i]! });
    const logs = players.map((p) => new EventLog(p, ["question", "reveal", "end", "resumed"]));
    const hostLog = new EventLog(host, ["reveal", "resumed", "end"]);

    const acked: Array<{ player: number; ack: ScoreData }> = [];
    const answerAll = async (index: number, who: number[]) => {
      const q = await logs[0]!.wait<ServerData<"question">>("question", (x) => x.index === index);
      const value =
        q.question.kind === "typed"
          ? { text: "a guess" }
          : q.question.kind === "multiple"
            ? { choices: [0] }
            : { choice: 0 };
      for (const i of who) {
        const ack = await players[i]!.answer(index, value);
        acked.push({ player: i, ack });
      }
    };

    // Question 0 (a 0× warm-up in the demo quiz) and question 1 open; two of three answer question 1.
    await host.start();
    await logs[0]!.wait("question", (q: ServerData<"question">) => q.index === 0);
    await answerAll(0, [0, 1, 2]);
    await hostLog.wait("reveal", (r: ServerData<"reveal">) => r.index === 0);
    await host.nextQuestion();
    await logs[0]!.wait("question", (q: ServerData<"question">) => q.index === 1);
    await answerAll(1, [0, 1]);
    const scoresBefore = acked.filter((a) => a.ack.index === 1).map((a) => a.ack.score);

    // Crash. Nothing gets a chance to flush or say goodbye.
    await first.kill("SIGKILL");
    const second = await ServerProcess.start({ DATA_DIR: dataDir, PORT: String(first.port) });
    servers.push(second);

    // Every client reconnects and resumes on its own (the SDK does it).
    const resumed = await Promise.all(
      logs.map((l) => l.wait<{ state: ServerData<"state"> }>("resumed")),
    );
    await hostLog.wait("resumed");
    expect(resumed[0]!.state.epoch).toBe(2);
    expect(resumed[0]!.state.phase).toMatchObject({ kind: "question", index: 1 });
    expect(resumed.slice(0, 2).map((r) => r.state.you?.score)).toEqual(scoresBefore);
    expect(resumed[0]!.state.you?.answered_current).toBe(true);

    // The game carries on: the third player answers, the question closes, and the rest is played out.
    await answerAll(1, [2]);
    await hostLog.wait("reveal", (r: ServerData<"reveal">) => r.index === 1);

    // A graceful stop (SIGTERM) and start resumes the same way, from the reveal.
    await second.kill("SIGTERM");
    const third = await ServerProcess.start({ DATA_DIR: dataDir, PORT: String(first.port) });
    servers.push(third);
    const again = await Promise.all(
      logs.map((l) => l.nth<{ state: ServerData<"state"> }>("resumed", 2)),
    );
    await hostLog.nth("resumed", 2);
    expect(again[0]!.state.epoch).toBe(3);
    expect(again[0]!.state.phase).toMatchObject({ kind: "reveal", index: 1 });
    const total = resumed[0]!.state.question_count;
    for (let index = 2; index < total; index++) {
      await host.nextQuestion();
      await logs[0]!.wait("question", (q: ServerData<"question">) => q.index === index);
      await answerAll(index, [0, 1, 2]);
      await hostLog.wait("reveal", (r: ServerData<"reveal">) => r.index === index);
    }
    await host.nextQuestion();
    const end = await logs[0]!.wait<ServerData<"end">>("end");
    expect(end.reason).toBe("finished");

    // Every acknowledged answer is in the results, with the points it was acknowledged with.
    const res = await fetch(
      `http://127.0.0.1:${second.port}/api/v1/sessions/${room.roomId}/results`,
    );
    expect(res.status).toBe(200);
    const results = (await res.json()) as {
      players: Array<{
        name: string;
        score: number;
        answers: Array<{ question_index: number; points: number; answered: boolean }>;
      }>;
    };
    for (const { player, ack } of acked) {
      const row = results.players.find((p) => p.name === names[player])!;
      const stored = row.answers.find((a) => a.question_index === ack.index)!;
      expect(stored.answered).toBe(true);
      expect(stored.points).toBe(ack.points);
    }
    // Final scores equal a replay of the stored answers.
    for (const row of results.players) {
      expect(row.score).toBe(row.answers.reduce((n, a) => n + a.points, 0));
    }
    expect(end.you?.score).toBe(results.players.find((p) => p.name === "Ann")!.score);
  }, 90_000);
});
