import type { Clock } from "../ports/clock.js";
import { FencedError, type Storage, StorageUnavailableError } from "../ports/storage.js";
import { STORE_METHODS, type StoreName } from "./sqlite/sqlite-worker-protocol.js";

/** Seed 001 §10.3: open after 5 consecutive failures, retry after 30 s. */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  retryAfterMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = {
  failureThreshold: 5,
  retryAfterMs: 30_000,
};

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitStatus {
  state: CircuitState;
  consecutiveFailures: number;
  /** When the next probe may go through (open only). */
  retryAt: number | null;
}

/**
 * A circuit breaker on the injected clock. Closed: calls go through and
 * consecutive failures are counted; at the threshold it opens. Open: every
 * call is refused at once with StorageUnavailableError, so nothing queues
 * behind a database that is down. Once `retryAfterMs` has passed, the next
 * call is the probe (half-open; other calls are still refused while it runs):
 * success closes the circuit, failure opens it for another period.
 */
export class CircuitBreaker {
  private state: CircuitState = "closed";
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly clock: Clock,
    private readonly opts: CircuitBreakerOptions = DEFAULT_CIRCUIT_BREAKER,
    private readonly onChange?: (status: CircuitStatus) => void,
  ) {}

  status(): CircuitStatus {
    return {
      state: this.state,
      consecutiveFailures: this.failures,
      retryAt: this.state === "open" ? this.openUntil : null,
    };
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    if (this.state === "open") {
      if (now < this.openUntil) throw new StorageUnavailableError(this.openUntil - now);
      this.state = "half_open";
      this.probing = false;
    }
    if (this.state === "half_open") {
      if (this.probing) throw new StorageUnavailableError(this.opts.retryAfterMs);
      this.probing = true;
    }
    let result: T;
    try {
      result = await call();
    } catch (err) {
      if (isOutage(err)) this.failed();
      else this.succeeded();
      throw err;
    }
    this.succeeded();
    return result;
  }

  private failed(): void {
    this.failures += 1;
    if (this.state === "half_open" || this.failures >= this.opts.failureThreshold) {
      const wasOpen = this.state === "open";
      this.state = "open";
      this.probing = false;
      this.openUntil = this.clock.now() + this.opts.retryAfterMs;
      if (!wasOpen) this.onChange?.(this.status());
    }
  }

  private succeeded(): void {
    const changed = this.state !== "closed";
    this.failures = 0;
    this.state = "closed";
    this.probing = false;
    if (changed) this.onChange?.(this.status());
  }
}

/**
 * Whether an error means the database did not answer. A fenced write, a constraint the data
 * broke, or a refusal by this breaker means it answered (or was not asked): not an outage.
 */
function isOutage(err: unknown): boolean {
  if (err instanceof FencedError || err instanceof StorageUnavailableError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (/^23\d{3}$/.test(code) || code.startsWith("SQLITE_CONSTRAINT")))
    return false;
  return true;
}

/** A Storage whose every call goes through one circuit breaker (a decorator over any adapter). */
export interface BreakerStorage extends Storage {
  readonly breaker: CircuitBreaker;
}

export function withCircuitBreaker(storage: Storage, breaker: CircuitBreaker): BreakerStorage {
  const wrap = <S extends StoreName>(name: S): Storage[S] => {
    const store = storage[name] as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const method of Object.keys(STORE_METHODS[name])) {
      out[method] = (...args) => breaker.run(() => store[method]!.apply(store, args));
    }
    return out as unknown as Storage[S];
  };
  return {
    breaker,
    quizzes: wrap("quizzes"),
    bank: wrap("bank"),
    sessions: wrap("sessions"),
    meta: wrap("meta"),
    images: wrap("images"),
    ping: () => breaker.run(() => storage.ping()),
    close: () => storage.close(),
    settleArrived: () => storage.settleArrived?.(),
  };
}
