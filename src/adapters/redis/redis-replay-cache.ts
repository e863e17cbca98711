import type { ReplayCache } from "../../ports/cluster.js";
import type { RedisConnection } from "./redis-connection.js";

/**
 * Replies by client message key, shared by every instance so a retry that lands on
 * another instance still gets the original reply: `<prefix>replay:<key>`, expiring in Redis.
 */
export class RedisReplayCache implements ReplayCache {
  constructor(private readonly conn: RedisConnection) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.conn.client.get(this.key(key))) ?? undefined;
  }

  async put(key: string, reply: string, ttlMs: number): Promise<void> {
    // As in MemoryReplayCache, a reply with no time to live is forgotten at once.
    if (!(ttlMs > 0)) {
      await this.conn.client.del(this.key(key));
      return;
    }
    await this.conn.client.set(this.key(key), reply, "PX", Math.ceil(ttlMs));
  }

  private key(key: string): string {
    return this.conn.key("replay", key);
  }
}
