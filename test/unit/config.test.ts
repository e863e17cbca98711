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
    expect(c.jwtJwksUrl).toBeNull();
    expect(c.jwtIssuer).toBeNull();
    expect(c.jwtAudience).toBeNull();
    expect(c.jwtJwksCooldownMs).toBe(30_000);
    expect(c.jwtJwksCacheMs).toBe(600_000);
    expect(c.allowAnonymous).toBe(true);
    expect(c.logLevel).toBe("info");
    expect(c.publicUrl).toBe("http://localhost:8080");
    expect(c.sqliteSynchronous).toBe("FULL");
    // Seed 001 §12.3 (2 h), §12.4 (24 h), seed 003 §12.6 (90 days).
    expect(c.sessionMaxDurationMs).toBe(2 * 3_600_000);
    expect(c.hotDataRetentionMs).toBe(24 * 3_600_000);
    expect(c.completedRetentionMs).toBe(90 * 24 * 3_600_000);
    expect(c.retentionSweepMs).toBe(3_600_000);
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
      JWT_JWKS_URL: "https://auth.example/.well-known/jwks.json",
      JWT_JWKS_COOLDOWN_MS: "5000",
      JWT_JWKS_CACHE_MS: "60000",
      JWT_ISSUER: "https://auth.example",
      JWT_AUDIENCE: "quizwire",
      SESSION_MAX_DURATION_MS: "0",
      HOT_DATA_RETENTION_MS: "60000",
      COMPLETED_RETENTION_MS: "0",
      RETENTION_SWEEP_MS: "5000",
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
      jwtJwksUrl: "https://auth.example/.well-known/jwks.json",
      jwtJwksCooldownMs: 5000,
      jwtJwksCacheMs: 60000,
      jwtIssuer: "https://auth.example",
      jwtAudience: "quizwire",
      sessionMaxDurationMs: 0,
      hotDataRetentionMs: 60_000,
      completedRetentionMs: 0,
      retentionSweepMs: 5_000,
      dbCircuitFailures: 3,
      dbCircuitRetryMs: 1000,
      eventLoopLagLimitMs: 0,
    });
  });

  it.each([
    ["PORT", "eighty"],
    ["SESSION_MAX_DURATION_MS", "2h"],
    ["HOT_DATA_RETENTION_MS", "-1"],
    ["RETENTION_SWEEP_MS", "10"],
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
    ["JWT_JWKS_URL", "file:///etc/jwks.json"],
    ["JWT_JWKS_COOLDOWN_MS", "soon"],
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

describe("seed 003's Cloud Run variables", () => {
  function configError(env: Record<string, string>): ConfigError {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
  }

  it("REDIS_HOST + REDIS_PORT (no REDIS_URL) make the Redis URL", () => {
    const c = loadConfig({ REDIS_HOST: "10.0.0.3", REDIS_PORT: "6380" });
    expect(c.redisUrl).toBe("redis://10.0.0.3:6380");
    expect(c.redisVariable).toBe("REDIS_HOST");
    expect(loadConfig({ REDIS_HOST: "fd00::3", REDIS_PORT: "6379" }).redisUrl).toBe(
      "redis://[fd00::3]:6379",
    );
  });

  it.each([
    [{ REDIS_HOST: "10.0.0.3" }, "REDIS_PORT"],
    [{ REDIS_PORT: "6379" }, "REDIS_HOST"],
    [{ REDIS_HOST: "10.0.0.3", REDIS_PORT: "sixty" }, "REDIS_PORT"],
    [{ REDIS_HOST: "10.0.0.3", REDIS_PORT: "0" }, "REDIS_PORT"],
    [{ REDIS_HOST: "a/b", REDIS_PORT: "6379" }, "REDIS_HOST"],
  ])("a half-given or bad Redis pair %j stops start-up naming %s", (env, variable) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
  });

  it("REDIS_URL and REDIS_HOST naming the same server: REDIS_URL is used (it may carry a password)", () => {
    const c = loadConfig({
      REDIS_URL: "redis://:pw@10.0.0.3:6379/2",
      REDIS_HOST: "10.0.0.3",
      REDIS_PORT: "6379",
    });
    expect(c.redisUrl).toBe("redis://:pw@10.0.0.3:6379/2");
    expect(c.redisVariable).toBe("REDIS_URL");
    expect(
      loadConfig({ REDIS_URL: "redis://cache", REDIS_HOST: "CACHE", REDIS_PORT: "6379" }).redisUrl,
    ).toBe("redis://cache");
  });

  it("REDIS_URL and REDIS_HOST naming different servers stop start-up", () => {
    for (const env of [
      { REDIS_URL: "redis://10.0.0.4:6379", REDIS_HOST: "10.0.0.3", REDIS_PORT: "6379" },
      { REDIS_URL: "redis://10.0.0.3:6380", REDIS_HOST: "10.0.0.3", REDIS_PORT: "6379" },
    ]) {
      const err = configError(env);
      expect(err.variable).toBe("REDIS_HOST");
      expect(err.message).toMatch(/REDIS_URL/);
    }
  });

  const CLOUD_SQL = {
    CLOUD_SQL_CONNECTION: "my-project:us-central1:quiz-db",
    DB_USER: "quiz",
    DB_PASSWORD: "p@ss:w/rd",
    DB_NAME: "quizwire",
  };

  it("CLOUD_SQL_CONNECTION with DB_USER/DB_PASSWORD/DB_NAME connects through /cloudsql/<connection>", () => {
    const c = loadConfig(CLOUD_SQL);
    expect(c.databaseVariable).toBe("CLOUD_SQL_CONNECTION");
    const u = new URL(c.databaseUrl ?? "");
    expect(u.protocol).toBe("postgresql:");
    expect(u.searchParams.get("host")).toBe("/cloudsql/my-project:us-central1:quiz-db");
    expect(decodeURIComponent(u.username)).toBe("quiz");
    expect(decodeURIComponent(u.password)).toBe("p@ss:w/rd");
    expect(u.pathname).toBe("/quizwire");
    expect(u.searchParams.get("schema")).toBeNull();
  });

  it("DB_SCHEMA and CLOUD_SQL_SOCKET_DIR are honoured; DB_PASSWORD may be left out (IAM login)", () => {
    const { DB_PASSWORD: _, ...noPassword } = CLOUD_SQL;
    const c = loadConfig({ ...noPassword, DB_SCHEMA: "qw", CLOUD_SQL_SOCKET_DIR: "/tmp/sockets/" });
    const u = new URL(c.databaseUrl ?? "");
    expect(u.searchParams.get("host")).toBe("/tmp/sockets/my-project:us-central1:quiz-db");
    expect(u.searchParams.get("schema")).toBe("qw");
    expect(u.password).toBe("");
  });

  it.each([
    [{ CLOUD_SQL_CONNECTION: "p:r:i", DB_NAME: "q" }, "DB_USER"],
    [{ CLOUD_SQL_CONNECTION: "p:r:i", DB_USER: "u" }, "DB_NAME"],
    [{ DB_USER: "u", DB_PASSWORD: "x", DB_NAME: "q" }, "CLOUD_SQL_CONNECTION"],
    [{ DB_PASSWORD: "x" }, "CLOUD_SQL_CONNECTION"],
    [{ CLOUD_SQL_CONNECTION: "just-a-name", DB_USER: "u", DB_NAME: "q" }, "CLOUD_SQL_CONNECTION"],
    [{ ...CLOUD_SQL, CLOUD_SQL_SOCKET_DIR: "relative" }, "CLOUD_SQL_SOCKET_DIR"],
  ])("a half-given Cloud SQL set %j stops start-up naming %s", (env, variable) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
  });

  it("DATABASE_URL and the Cloud SQL set must name the same database; then DATABASE_URL is used", () => {
    const same =
      "postgresql://quiz:pw@localhost/quizwire?host=%2Fcloudsql%2Fmy-project%3Aus-central1%3Aquiz-db&sslmode=disable";
    const c = loadConfig({ ...CLOUD_SQL, DATABASE_URL: same });
    expect(c.databaseUrl).toBe(same);
    expect(c.databaseVariable).toBe("DATABASE_URL");
    const err = configError({ ...CLOUD_SQL, DATABASE_URL: "postgres://quiz@db.example/quizwire" });
    expect(err.variable).toBe("CLOUD_SQL_CONNECTION");
    expect(err.message).toContain("DATABASE_URL");
  });

  it("MAX_CONNECTIONS_PER_INSTANCE, ENABLE_RATE_LIMITING and ENV", () => {
    const defaults = loadConfig({});
    expect(defaults.maxConnectionsPerInstance).toBeNull();
    expect(defaults.rateLimiting).toBe(true);
    expect(defaults.env).toBe("development");
    const c = loadConfig({
      MAX_CONNECTIONS_PER_INSTANCE: "5000",
      ENABLE_RATE_LIMITING: "false",
      ENV: "production",
    });
    expect(c).toMatchObject({
      maxConnectionsPerInstance: 5000,
      rateLimiting: false,
      env: "production",
    });
    expect(loadConfig({ MAX_CONNECTIONS_PER_INSTANCE: "0" }).maxConnectionsPerInstance).toBeNull();
    expect(configError({ MAX_CONNECTIONS_PER_INSTANCE: "lots" }).variable).toBe(
      "MAX_CONNECTIONS_PER_INSTANCE",
    );
    expect(configError({ ENABLE_RATE_LIMITING: "sometimes" }).variable).toBe(
      "ENABLE_RATE_LIMITING",
    );
    expect(configError({ ENV: "prod" }).variable).toBe("ENV");
  });
});
