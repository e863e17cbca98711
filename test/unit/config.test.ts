import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration from the environment", () => {
  it("has working defaults with nothing set", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe("0.0.0.0");
    expect(c.dataDir).toMatch(/data$/);
    expect(c.databaseUrl).toBeNull();
    expect(c.redisUrl).toBeNull();
    expect(c.jwtSecret).toBeNull();
    expect(c.allowAnonymous).toBe(true);
    expect(c.logLevel).toBe("info");
    expect(c.publicUrl).toBe("http://localhost:8080");
    expect(c.sqliteSynchronous).toBe("FULL");
  });

  it("reads every variable", () => {
    const c = loadConfig({
      PORT: "9000",
      HOST: "127.0.0.1",
      DATA_DIR: "/tmp/qw",
      DATABASE_URL: "postgres://u@h/db",
      REDIS_URL: "redis://127.0.0.1:6379",
      JWT_SECRET: "0123456789abcdef",
      ALLOW_ANONYMOUS: "false",
      ADMIN_TOKEN: "s3cret",
      LOG_LEVEL: "debug",
      PUBLIC_URL: "https://quiz.example.com/",
      SQLITE_SYNCHRONOUS: "normal",
      DEMO_CONTENT: "no",
      ENDED_RETENTION_MS: "1000",
      ALLOWED_ORIGINS: "https://a.example, https://b.example",
      DB_CIRCUIT_FAILURES: "3",
      DB_CIRCUIT_RETRY_MS: "1000",
      EVENT_LOOP_LAG_LIMIT_MS: "0",
    });
    expect(c).toMatchObject({
      port: 9000,
      host: "127.0.0.1",
      dataDir: "/tmp/qw",
      databaseUrl: "postgres://u@h/db",
      redisUrl: "redis://127.0.0.1:6379",
      jwtSecret: "0123456789abcdef",
      allowAnonymous: false,
      adminToken: "s3cret",
      logLevel: "debug",
      publicUrl: "https://quiz.example.com",
      sqliteSynchronous: "NORMAL",
      demoContent: false,
      endedRetentionMs: 1000,
      allowedOrigins: ["https://a.example", "https://b.example"],
      dbCircuitFailures: 3,
      dbCircuitRetryMs: 1000,
      eventLoopLagLimitMs: 0,
    });
  });

  it.each([
    ["PORT", "eighty"],
    ["DB_CIRCUIT_FAILURES", "0"],
    ["EVENT_LOOP_LAG_LIMIT_MS", "fast"],
    ["PORT", "70000"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://x"],
    ["REDIS_URL", "not a url"],
    ["JWT_SECRET", "short"],
    ["ALLOW_ANONYMOUS", "maybe"],
    ["SQLITE_SYNCHRONOUS", "OFF"],
    ["PUBLIC_URL", "ftp://x"],
  ])("an invalid %s (%s) stops start-up with an error naming it", (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as Error).message).toContain(name);
  });
});
