import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { WARM_UP_QUESTIONS, warmUp } from "../../src/server/warm-up.js";
import { countKeys, randomKeyPrefix } from "../support/redis.js";
import { ServerProcess } from "../support/server-process.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";
import { createTestApp } from "../support/test-app.js";

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the warm-up game before the server opens", () => {
  it("plays a whole live game through a private instance, then removes its database", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quizwire-warm-up-test-"));
    dirs.push(dataDir);
    const config = loadConfig({ DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: "0" });
    const report = await warmUp(config, 12, pino({ level: "silent" }));
    expect(report).toMatchObject({
      players: 12,
      questions: WARM_UP_QUESTIONS,
      answers: 12 * WARM_UP_QUESTIONS,
    });
    expect(report.dataDir).not.toBe(dataDir);
    expect(existsSync(report.dataDir)).toBe(false);
    // The real data directory was not touched.
    expect(existsSync(join(dataDir, "quizwire.db"))).toBe(false);
  });

  it("the server plays it before it listens, and says so", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quizwire-warm-up-test-"));
    dirs.push(dataDir);
    const server = await ServerProcess.start(
      { PORT: "0", DATA_DIR: dataDir, WARMUP_PLAYERS: "10" },
      60_000,
    );
    servers.push(server);
    const log = server.output.join("");
    const warmed = log.indexOf("warmed up: a 5-question game of 10 players (50 answers)");
    expect(warmed).toBeGreaterThanOrEqual(0);
    expect(warmed).toBeLessThan(log.indexOf("quizwire listening on"));
    const res = await fetch(`http://127.0.0.1:${server.port}/health/live`);
    expect(res.status).toBe(200);
  });

  it("its private instance starts none of prom-client's process metrics, which could not be stopped", async () => {
    const plain = await createTestApp();
    const quiet = await createTestApp({}, { processMetrics: false });
    try {
      const scrape = async (t: typeof plain) =>
        (await t.app.fastify.inject({ method: "GET", url: "/metrics" })).body;
      expect(await scrape(plain)).toContain("process_cpu_user_seconds_total");
      const body = await scrape(quiet);
      expect(body).not.toContain("process_cpu_user_seconds_total");
      expect(body).toContain("quizwire_connections");
    } finally {
      await plain.close();
      await quiet.close();
    }
  });
});

const redis = requireOrSkip(await redisAvailable());

describe.skipIf(redis.skip)(redis.title("the warm-up game of a cluster's instance"), () => {
  it("is played on two private instances joined through Redis, half of the players on the second, and leaves no key behind", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quizwire-warm-up-test-"));
    dirs.push(dataDir);
    const prefix = randomKeyPrefix();
    const config = loadConfig({
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    });
    const report = await warmUp(config, 12, pino({ level: "silent" }));
    // The game is the first instance's: the second one's players answered through it.
    expect(report).toMatchObject({
      instances: 2,
      players: 12,
      answers: 12 * WARM_UP_QUESTIONS,
      answersByInstance: [6 * WARM_UP_QUESTIONS, 6 * WARM_UP_QUESTIONS],
    });
    expect(existsSync(report.dataDir)).toBe(false);
    expect(await countKeys(TEST_REDIS_URL, prefix)).toBe(0);
  });
});
