import { asSessionId, type SessionId } from "../../domain/ids.js";
import type { PinDirectory } from "../../ports/cluster.js";
import { positiveMs } from "../checked-numbers.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

// Claims the PIN unless another session holds it; the holder's own claim is refreshed.
const RESERVE = new RedisScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`);

// Deletes the PIN only while it still names this session.
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

export interface RedisPinDirectoryOptions {
  /**
   * How long a claim lives without being reserved again: a safety net for PINs whose room
   * ended without releasing them (a crashed instance). Default 24 hours.
   */
  ttlMs?: number;
}

/**
 * PINs shared by every instance (P-3): `<prefix>pin:<pin>` holds the session id. Reserving a
 * PIN the same session already holds succeeds and refreshes its TTL, so an owner (a new one
 * after failover, too) keeps a long-running room's PIN by reserving it again.
 */
export class RedisPinDirectory implements PinDirectory {
  private readonly ttlMs: number;

  constructor(
    private readonly conn: RedisConnection,
    options: RedisPinDirectoryOptions = {},
  ) {
    this.ttlMs = positiveMs(options.ttlMs ?? 24 * 60 * 60 * 1000, "ttlMs");
  }

  async reserve(pin: string, sessionId: SessionId): Promise<boolean> {
    return (await RESERVE.run(this.conn, [this.key(pin)], [sessionId, this.ttlMs])) === 1;
  }

  async release(pin: string, sessionId: SessionId): Promise<void> {
    await RELEASE.run(this.conn, [this.key(pin)], [sessionId]);
  }

  async lookup(pin: string): Promise<SessionId | undefined> {
    const v = await this.conn.client.get(this.key(pin));
    return v === null ? undefined : asSessionId(v);
  }

  private key(pin: string): string {
    return this.conn.key("pin", pin);
  }
}
