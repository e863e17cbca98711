/**
 * Redis for tests: a key prefix per run, cleaning up after it, and killing chosen connections
 * without touching anyone else's on the shared server. Whether Redis is there at all is decided
 * by `redisAvailable` and `requireOrSkip` in ./services.ts (skip with a printed reason, or fail
 * under QUIZWIRE_REQUIRE_SERVICES=1).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { withConnection } from "../../src/adapters/redis/redis-connection.js";

/** A key prefix no other run uses: `quizwire-test:<random>:`. */
export function randomKeyPrefix(): string {
  return `quizwire-test:${randomBytes(6).toString("hex")}:`;
}

/** A short-lived plain client for a test's own inspection and cleanup. */
export async function adminClient(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/** Deletes every key that starts with `prefix`; resolves with how many there were. */
export function deleteKeys(url: string, prefix: string): Promise<number> {
  return withConnection({ url, keyPrefix: prefix, name: "test-cleanup" }, (c) => c.deleteOwnKeys());
}

/** How many keys start with `prefix`. */
export function countKeys(url: string, prefix: string): Promise<number> {
  return withConnection({ url, keyPrefix: prefix, name: "test-cleanup" }, (c) => c.countOwnKeys());
}

/**
 * CLIENT KILLs the connections whose name is exactly `name` (RedisConnection names them
 * `<prefix><name>`) from an admin connection, leaving every other client of the server alone.
 * Resolves with how many were killed.
 */
export async function killClientsNamed(url: string, name: string): Promise<number> {
  const admin = await adminClient(url);
  try {
    const list = await admin.client("LIST");
    let killed = 0;
    for (const line of String(list).split("\n")) {
      const fields = new Map(
        line
          .trim()
          .split(" ")
          .map((kv) => {
            const i = kv.indexOf("=");
            return [kv.slice(0, i), kv.slice(i + 1)] as const;
          }),
      );
      const id = fields.get("id");
      if (id === undefined || fields.get("name") !== name) continue;
      killed += Number(await admin.client("KILL", "ID", id));
    }
    return killed;
  } finally {
    await admin.quit();
  }
}
