import { hostname } from "node:os";
import { RedisClusterBus } from "../adapters/redis/redis-bus.js";
import { RedisConnection } from "../adapters/redis/redis-connection.js";
import { RedisOwnershipLeases } from "../adapters/redis/redis-ownership-leases.js";
import { RedisPinDirectory } from "../adapters/redis/redis-pin-directory.js";
import { RedisRateLimiter } from "../adapters/redis/redis-rate-limiter.js";
import { ConfigError } from "../config.js";
import type { Clock, Random } from "../ports/clock.js";
import type { ClusterBus, OwnershipLeases, PinDirectory, RateLimiter } from "../ports/cluster.js";

/** What several instances share through Redis. */
export interface RedisCluster {
  instanceId: string;
  pins: PinDirectory;
  limiter: RateLimiter;
  leases: OwnershipLeases;
  bus: ClusterBus;
  close(): Promise<void>;
}

/** A name for this instance that tells an operator where it runs, unique across restarts. */
export function newInstanceId(random: Random): string {
  return `${hostname()}-${process.pid}-${random.token(4)}`;
}

/**
 * Connects to Redis; a wrong or unreachable server stops start-up with a message naming the
 * variable it came from (REDIS_URL, or seed 003's REDIS_HOST).
 */
export async function openRedisCluster(opts: {
  url: string;
  variable?: string;
  keyPrefix: string;
  clock: Clock;
  random: Random;
}): Promise<RedisCluster> {
  const instanceId = newInstanceId(opts.random);
  let conn: RedisConnection;
  try {
    conn = await RedisConnection.open({
      url: opts.url,
      keyPrefix: opts.keyPrefix,
      name: instanceId,
    });
  } catch (err) {
    throw new ConfigError(
      opts.variable ?? "REDIS_URL",
      `cannot connect: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bus = await RedisClusterBus.open(conn, instanceId, { clock: opts.clock });
  return {
    instanceId,
    pins: new RedisPinDirectory(conn),
    limiter: new RedisRateLimiter(conn, opts.clock),
    leases: new RedisOwnershipLeases(conn),
    bus,
    async close() {
      await bus.close();
      await conn.close();
    },
  };
}
