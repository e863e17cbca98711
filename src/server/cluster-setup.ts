import { hostname } from "node:os";
import { RedisAnswerFeed } from "../adapters/redis/redis-answer-feed.js";
import { RedisClusterBus } from "../adapters/redis/redis-bus.js";
import { RedisConnection } from "../adapters/redis/redis-connection.js";
import { RedisOwnershipLeases } from "../adapters/redis/redis-ownership-leases.js";
import { RedisPinDirectory } from "../adapters/redis/redis-pin-directory.js";
import { RedisPinGuesses } from "../adapters/redis/redis-pin-guesses.js";
import { RedisRateLimiter } from "../adapters/redis/redis-rate-limiter.js";
import { RedisSharedCounters } from "../adapters/redis/redis-shared-counters.js";
import { ConfigError } from "../config.js";
import type { RoomRuntime } from "../engine/room-runtime.js";
import type { Clock, Random } from "../ports/clock.js";
import type {
  AnswerFeed,
  ClusterBus,
  OwnershipLeases,
  PinDirectory,
  RateLimiter,
  SharedCounters,
} from "../ports/cluster.js";
import type { PinGuesses } from "../ports/pin-guesses.js";

/** What several instances share through Redis. */
export interface RedisCluster {
  instanceId: string;
  pins: PinDirectory;
  limiter: RateLimiter;
  /** PIN guess allowances (P-4), shared so the limit holds across instances. */
  pinGuesses: PinGuesses;
  /** What per-message limits reconcile with (ReconciledRateLimiter). */
  counters: SharedCounters;
  leases: OwnershipLeases;
  bus: ClusterBus;
  /** Seed 002's `quiz:updates:{quiz_id}` notices, for subscribers outside quizwire. */
  answers: AnswerFeed;
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
  onError: (err: unknown, context: string) => void;
  /** This instance's name; a new one unless given. */
  instanceId?: string;
}): Promise<RedisCluster> {
  const instanceId = opts.instanceId ?? newInstanceId(opts.random);
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
  const answers = new RedisAnswerFeed(conn, opts.clock, opts.onError);
  return {
    instanceId,
    pins: new RedisPinDirectory(conn),
    limiter: new RedisRateLimiter(conn, opts.clock),
    pinGuesses: new RedisPinGuesses(conn, opts.clock),
    counters: new RedisSharedCounters(conn),
    leases: new RedisOwnershipLeases(conn),
    bus,
    answers,
    async close() {
      answers.flush();
      await bus.close();
      await conn.close();
    },
  };
}

/**
 * Hands every answer a room stores to the feed. The room emits `scored` only
 * once the answer is committed, so nothing uncommitted is ever announced.
 */
export function feedStoredAnswers(runtime: RoomRuntime, feed: AnswerFeed): void {
  runtime.subscribe((e) => {
    if (e.body.type === "scored")
      feed.answerStored(e.sessionId, e.body.participantId, e.body.score);
  });
}
