import { hostname } from "node:os";
import { RedisClusterBus } from "../adapters/redis/redis-bus.js";
import { RedisConnection } from "../adapters/redis/redis-connection.js";
import { RedisOwnershipLeases } from "../adapters/redis/redis-ownership-leases.js";
import { RedisPinDirectory } from "../adapters/redis/redis-pin-directory.js";
import { RedisRateLimiter } from "../adapters/redis/redis-rate-limiter.js";
import { RedisSharedCounters } from "../adapters/redis/redis-shared-counters.js";
import { ConfigError } from "../config.js";
import type { Clock, Random } from "../ports/clock.js";
import type {
  ClusterBus,
  OwnershipLeases,
  PinDirectory,
  RateLimiter,
  SharedCounters,
} from "../ports/cluster.js";

/** What several instances share through Redis. */
export interface RedisCluster {
  instanceId: string;
  pins: PinDirectory;
  limiter: RateLimiter;
  /** What per-message limits reconcile with (ReconciledRateLimiter). */
  counters: SharedCounters;
  leases: OwnershipLeases;
  bus: ClusterBus;
  close(): Promise<void>;
}

/** A name for this instance that tells an operator where it runs, unique across restarts. */
export function newInstanceId(random: Random): string {
  return `${hostname()}-${process.pid}-${random.token(4)}`;
}

/** Connects to REDIS_URL; a wrong or unreachable URL stops start-up with a message naming it. */
export async function openRedisCluster(opts: {
  url: string;
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
      "REDIS_URL",
      `cannot connect: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bus = await RedisClusterBus.open(conn, instanceId, { clock: opts.clock });
  return {
    instanceId,
    pins: new RedisPinDirectory(conn),
    limiter: new RedisRateLimiter(conn, opts.clock),
    counters: new RedisSharedCounters(conn),
    leases: new RedisOwnershipLeases(conn),
    bus,
    async close() {
      await bus.close();
      await conn.close();
    },
  };
}
