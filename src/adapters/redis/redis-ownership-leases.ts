import type { SessionId } from "../../domain/ids.js";
import type { Lease, OwnershipLeases } from "../../ports/cluster.js";
import { positiveMs } from "../checked-numbers.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

// Takes the lease unless another one is live; the same holder at the same epoch takes it again
// (and extends it). Returns {1, value} when taken, else {0, the live value}.
const ACQUIRE = new RedisScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1]} end
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, current}
end
return {0, current}`);

const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);

const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * Session ownership leases in Redis: `<prefix>lease:<sessionId>` holds `<epoch>:<instanceId>`
 * and expires in Redis (server time) unless renewed. Renew and release compare the whole value,
 * so neither another instance nor the same instance at a stale epoch can touch a lease.
 */
export class RedisOwnershipLeases implements OwnershipLeases {
  constructor(private readonly conn: RedisConnection) {}

  async acquire(
    sessionId: SessionId,
    instanceId: string,
    epoch: number,
    ttlMs: number,
  ): Promise<{ ok: true; lease: Lease } | { ok: false; holder: Lease | null }> {
    const lease: Lease = { sessionId, instanceId, epoch };
    const ttl = positiveMs(ttlMs, "ttlMs");
    const reply = await ACQUIRE.run(this.conn, [this.key(sessionId)], [encodeLease(lease), ttl]);
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1)) {
      throw new Error(`unexpected lease reply: ${JSON.stringify(reply)}`);
    }
    if (reply[0] === 1) return { ok: true, lease };
    return { ok: false, holder: decodeLease(sessionId, reply[1]) };
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    const ttl = positiveMs(ttlMs, "ttlMs");
    const r = await RENEW.run(this.conn, [this.key(lease.sessionId)], [encodeLease(lease), ttl]);
    return r === 1;
  }

  async release(lease: Lease): Promise<void> {
    await RELEASE.run(this.conn, [this.key(lease.sessionId)], [encodeLease(lease)]);
  }

  async holder(sessionId: SessionId): Promise<Lease | null> {
    return decodeLease(sessionId, await this.conn.client.get(this.key(sessionId)));
  }

  private key(sessionId: SessionId): string {
    return this.conn.key("lease", sessionId);
  }
}

function encodeLease(lease: Lease): string {
  if (!Number.isSafeInteger(lease.epoch)) {
    throw new RangeError(`lease epoch must be an integer, got ${lease.epoch}`);
  }
  return `${lease.epoch}:${lease.instanceId}`;
}

/** The lease a stored value describes; null for none or a value this code did not write. */
function decodeLease(sessionId: SessionId, value: unknown): Lease | null {
  if (typeof value !== "string") return null;
  const m = /^(-?\d+):([\s\S]*)$/.exec(value);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  return { sessionId, instanceId: m[2], epoch: Number(m[1]) };
}
