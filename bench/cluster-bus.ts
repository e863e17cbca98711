/**
 * Cluster bus latency. Not a test: prints percentiles of publish→receive for room events and of
 * request→reply round trips, between two bus instances ("a" and "b") on their own connections,
 * over Redis pub/sub and, for comparison, the in-process hub. Both instances live in this one
 * process, so one clock times both ends.
 *
 *   npx tsx bench/cluster-bus.ts [--url redis://127.0.0.1:6379] [--events 2000]
 *
 * Keys and channels use a random `quizwire-bench:<hex>:` prefix; nothing is stored.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { MemoryClusterHub } from "../src/adapters/memory/memory-cluster.js";
import { RedisClusterBus } from "../src/adapters/redis/redis-bus.js";
import { RedisConnection } from "../src/adapters/redis/redis-connection.js";
import { asSessionId } from "../src/domain/ids.js";
import type { ClusterBus } from "../src/ports/cluster.js";
import { formatTable, type Summary, summarize, summaryRow } from "./stats.js";

const ROOM = asSessionId("bench-room");
const WARMUP = 200;
const CONCURRENCY = 50;
const STEP_TIMEOUT_MS = 5_000;

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Publishes one event at a time, each after the previous one arrived: pure latency. */
async function eventLatency(a: ClusterBus, b: ClusterBus, count: number): Promise<number[]> {
  let arrived: ((sentAt: number) => void) | undefined;
  const off = await b.subscribeRoomEvents(ROOM, (e) => arrived?.(Number(e)));
  const samples: number[] = [];
  try {
    for (let i = 0; i < WARMUP + count; i++) {
      const received = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("event lost")), STEP_TIMEOUT_MS);
        arrived = (sentAt) => {
          clearTimeout(timer);
          resolve(now() - sentAt);
        };
      });
      await a.publishRoomEvent(ROOM, String(now()));
      const ms = await received;
      if (i >= WARMUP) samples.push(ms);
    }
  } finally {
    await off();
  }
  return samples;
}

/** Publishes `count` events back to back without waiting: latency under a burst. */
async function burstLatency(a: ClusterBus, b: ClusterBus, count: number): Promise<number[]> {
  const samples: number[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const off = await b.subscribeRoomEvents(ROOM, (e) => {
    samples.push(now() - Number(e));
    if (samples.length === count) done();
  });
  try {
    const sent: Promise<void>[] = [];
    for (let i = 0; i < count; i++) sent.push(a.publishRoomEvent(ROOM, String(now())));
    await Promise.all(sent);
    await Promise.race([
      all,
      new Promise((_, reject) => setTimeout(() => reject(new Error("events lost")), 10_000)),
    ]);
  } finally {
    await off();
  }
  return samples;
}

/** `count` requests from a to b, `inFlight` at a time; each sample is one round trip. */
async function roundTrips(
  a: ClusterBus,
  b: ClusterBus,
  count: number,
  inFlight: number,
): Promise<number[]> {
  b.serve(async (m) => m);
  for (let i = 0; i < WARMUP; i++) await a.request(b.instanceId, "warm", STEP_TIMEOUT_MS);
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const start = now();
      await a.request(b.instanceId, "ping", STEP_TIMEOUT_MS);
      samples.push(now() - start);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return samples;
}

async function measure(label: string, a: ClusterBus, b: ClusterBus, count: number) {
  const rows: [string, Summary][] = [
    [`${label} event, one at a time`, summarize(await eventLatency(a, b, count))],
    [`${label} event, burst of ${count}`, summarize(await burstLatency(a, b, count))],
    [`${label} request→reply, sequential`, summarize(await roundTrips(a, b, count, 1))],
    [
      `${label} request→reply, ${CONCURRENCY} in flight`,
      summarize(await roundTrips(a, b, count, CONCURRENCY)),
    ],
  ];
  return rows.map(([name, s]) => summaryRow(name, s));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
      events: { type: "string", default: "2000" },
    },
  });
  const count = Number(values.events);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw new Error(`--events must be 1..100000, got ${values.events}`);
  }
  const keyPrefix = `quizwire-bench:${randomBytes(4).toString("hex")}:`;
  const connA = await RedisConnection.open({ url: values.url, keyPrefix, name: "a" });
  const connB = await RedisConnection.open({ url: values.url, keyPrefix, name: "b" });
  const busA = await RedisClusterBus.open(connA, "a");
  const busB = await RedisClusterBus.open(connB, "b");
  const hub = new MemoryClusterHub();
  const memA = hub.bus("a");
  const memB = hub.bus("b");
  try {
    const rows = [
      ...(await measure("redis", busA, busB, count)),
      ...(await measure("memory", memA, memB, count)),
    ];
    const header = ["", "n", "p50", "p95", "p99", "max"];
    console.log(`cluster bus latency (ms), ${count} samples each, Redis at ${values.url}`);
    console.log(formatTable([header, ...rows]));
  } finally {
    await busA.close();
    await busB.close();
    await connA.close();
    await connB.close();
    await memA.close();
    await memB.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
