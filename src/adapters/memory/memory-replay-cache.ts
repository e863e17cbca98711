import type { Clock } from "../../ports/clock.js";
import type { LocalReplayCache } from "../../ports/cluster.js";

/** How often a put drops the expired replies (all of them, from the oldest on). */
const SWEEP_EVERY_MS = 1_000;

/**
 * Replies by message key, expiring after their TTL; bounded so a flood cannot grow it forever.
 *
 * A Map keeps insertion order, so the first keys are the oldest, and it keeps a deleted entry as
 * a hole at its front until it is rehashed: every walk from the front passes the holes. Expired
 * and surplus replies are therefore dropped many at a time (the expired ones once a second, a
 * tenth of the cap when it is full), not one per put, which walked thousands of holes per put.
 */
export class MemoryReplayCache<T = string> implements LocalReplayCache<T> {
  private readonly entries = new Map<string, { reply: T; expiresAt: number }>();
  private nextSweepAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 200_000,
  ) {}

  /** Replies held now, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<T | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.reply;
  }

  async put(key: string, reply: T, ttlMs: number): Promise<void> {
    this.putSync(key, reply, ttlMs);
  }

  putSync(key: string, reply: T, ttlMs: number): void {
    const now = this.clock.now();
    this.entries.delete(key);
    this.entries.set(key, { reply, expiresAt: now + ttlMs });
    // A reply nobody retries is not kept until the cache is full.
    if (now >= this.nextSweepAt) {
      this.nextSweepAt = now + SWEEP_EVERY_MS;
      for (const [k, e] of this.entries) {
        if (e.expiresAt > now) break;
        this.entries.delete(k);
      }
    }
    if (this.entries.size > this.maxEntries) {
      const keep = this.maxEntries - Math.floor(this.maxEntries / 10);
      for (const k of this.entries.keys()) {
        if (this.entries.size <= keep) break;
        this.entries.delete(k);
      }
    }
  }
}
