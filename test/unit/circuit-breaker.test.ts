import { describe, expect, it } from "vitest";
import { CircuitBreaker, withCircuitBreaker } from "../../src/adapters/circuit-breaker-storage.js";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { asSessionId } from "../../src/domain/ids.js";
import { FencedError, StorageUnavailableError } from "../../src/ports/storage.js";

const down = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
const up = () => Promise.resolve("ok");

function setup() {
  const clock = new FakeClock(0);
  const changes: string[] = [];
  const breaker = new CircuitBreaker(clock, { failureThreshold: 5, retryAfterMs: 30_000 }, (s) =>
    changes.push(s.state),
  );
  return { clock, breaker, changes };
}

/** Runs `call` through the breaker; what it threw, or "ok". */
async function outcome(breaker: CircuitBreaker, call: () => Promise<unknown>): Promise<unknown> {
  return breaker.run(call).then(
    () => "ok",
    (e: unknown) => e,
  );
}

describe("CircuitBreaker (seed 001 §10.3: open after 5 consecutive failures, retry after 30 s)", () => {
  it("opens after 5 consecutive failures and then refuses at once, without calling the database", async () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 4; i++) expect(await outcome(breaker, down)).toBeInstanceOf(Error);
    expect(breaker.status().state).toBe("closed");
    expect(await outcome(breaker, down)).not.toBeInstanceOf(StorageUnavailableError);
    expect(breaker.status()).toEqual({ state: "open", consecutiveFailures: 5, retryAt: 30_000 });
    let called = 0;
    const refused = await outcome(breaker, () => {
      called += 1;
      return up();
    });
    expect(refused).toBeInstanceOf(StorageUnavailableError);
    expect(refused).toMatchObject({ statusCode: 503, code: "UNAVAILABLE", retryAfterMs: 30_000 });
    expect(called).toBe(0);
    expect(changes).toEqual(["open"]);
  });

  it("a success in between starts the count again", async () => {
    const { breaker } = setup();
    for (let i = 0; i < 4; i++) await outcome(breaker, down);
    await outcome(breaker, up);
    for (let i = 0; i < 4; i++) await outcome(breaker, down);
    expect(breaker.status().state).toBe("closed");
  });

  it("after 30 s one probe goes through (half-open); others are refused while it runs; its success closes the circuit", async () => {
    const { clock, breaker, changes } = setup();
    for (let i = 0; i < 5; i++) await outcome(breaker, down);
    clock.advance(29_999);
    expect(await outcome(breaker, up)).toBeInstanceOf(StorageUnavailableError);
    clock.advance(1);
    let release: (v: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((r) => (release = r)));
    expect(breaker.status().state).toBe("half_open");
    expect(await outcome(breaker, up)).toBeInstanceOf(StorageUnavailableError);
    release("ok");
    await expect(probe).resolves.toBe("ok");
    expect(breaker.status()).toEqual({ state: "closed", consecutiveFailures: 0, retryAt: null });
    expect(await outcome(breaker, up)).toBe("ok");
    expect(changes).toEqual(["open", "closed"]);
  });

  it("a failed probe opens the circuit for another 30 s", async () => {
    const { clock, breaker } = setup();
    for (let i = 0; i < 5; i++) await outcome(breaker, down);
    clock.advance(30_000);
    expect(await outcome(breaker, down)).not.toBeInstanceOf(StorageUnavailableError);
    expect(breaker.status()).toMatchObject({ state: "open", retryAt: 60_000 });
    clock.advance(10_000);
    expect(await outcome(breaker, up)).toBeInstanceOf(StorageUnavailableError);
  });

  it("answers from the database that refuse a write (fencing, constraints) are not outages", async () => {
    const { breaker } = setup();
    const fenced = () => Promise.reject(new FencedError(asSessionId("s"), 1, 2));
    const constraint = () =>
      Promise.reject(Object.assign(new Error("duplicate key"), { code: "23505" }));
    for (let i = 0; i < 10; i++) {
      await outcome(breaker, fenced);
      await outcome(breaker, constraint);
    }
    expect(breaker.status()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });
});

describe("withCircuitBreaker (a decorator over any Storage)", () => {
  it("every store's calls and ping go through the breaker: a database that is gone is refused at once after 5 failures", async () => {
    const clock = new FakeClock(0);
    const inner = await openSqliteStorage({ path: ":memory:" });
    const storage = withCircuitBreaker(inner, new CircuitBreaker(clock));
    expect(await storage.quizzes.list()).toEqual([]);
    await storage.meta.set("k", "v");
    expect(await storage.meta.get("k")).toBe("v");
    await inner.close();
    const calls = [
      () => storage.quizzes.list(),
      () => storage.sessions.listOpen(),
      () => storage.meta.get("k"),
      () => storage.bank.list(),
      () => storage.ping(),
    ];
    for (const call of calls) {
      const e = await call().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(StorageUnavailableError);
    }
    expect(storage.breaker.status().state).toBe("open");
    await expect(storage.sessions.load(asSessionId("x"))).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
  });
});
