import type { Clock } from "../../ports/clock.js";
import type { LocalReplayCache } from "../../ports/cluster.js";

/** Replies by message key, expiring after their TTL; bounded so a flood cannot grow it forever. */
export class MemoryReplayCache implements LocalReplayCache {
  private readonly entries = new Map<string, { reply: string; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 200_000,
  ) {}

  /** Replies held now, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.reply;
  }

  async put(key: string, reply: string, ttlMs: number): Promise<void> {
    this.putSync(key, reply, ttlMs);
  }

  putSync(key: string, reply: string, ttlMs: number): void {
    const now = this.clock.now();
    this.entries.delete(key);
    this.entries.set(key, { reply, expiresAt: now + ttlMs });
    // Map keeps insertion order, so the first keys are the oldest. Two expired ones are dropped
    // per put: a reply nobody retries is not kept until the cache is full.
    for (let i = 0; i < 2; i++) {
      const first = this.entries.entries().next().value;
      if (first === undefined || first[1].expiresAt > now) break;
      this.entries.delete(first[0]);
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
