import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { Storage } from "../../src/ports/storage.js";
import { isLoopbackHost, resolveAdminToken } from "../../src/server/admin-token.js";

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"])(
    "%s is loopback",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "::ffff:10.0.0.1", ""])(
    "%s is reachable from the network",
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe("resolveAdminToken", () => {
  const opened: Storage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  async function storage(): Promise<Storage> {
    const s = await openSqliteStorage({ path: ":memory:" });
    opened.push(s);
    return s;
  }

  it("uses ADMIN_TOKEN when it is set, whatever the host", async () => {
    const { meta } = await storage();
    const random = new SeededRandom(1);
    const r = await resolveAdminToken({ configured: "mine", host: "0.0.0.0", meta, random });
    expect(r).toEqual({ token: "mine", source: "configured" });
    expect(await meta.get("admin_token")).toBeUndefined();
  });

  it("leaves admin open on a loopback host with nothing stored", async () => {
    const { meta } = await storage();
    const random = new SeededRandom(1);
    const r = await resolveAdminToken({ configured: null, host: "127.0.0.1", meta, random });
    expect(r).toEqual({ token: null, source: "open" });
  });

  it("generates and keeps a token on a network host, then reads the same one back", async () => {
    const { meta } = await storage();
    const random = new SeededRandom(1);
    const first = await resolveAdminToken({ configured: null, host: "0.0.0.0", meta, random });
    expect(first.source).toBe("generated");
    expect(first.token).toMatch(/^[\w-]{20,}$/);
    const second = await resolveAdminToken({ configured: null, host: "0.0.0.0", meta, random });
    expect(second).toEqual({ token: first.token, source: "stored" });
    // Narrowing HOST to loopback later does not open admin again.
    const local = await resolveAdminToken({ configured: null, host: "127.0.0.1", meta, random });
    expect(local).toEqual({ token: first.token, source: "stored" });
  });

  it("instances starting together on one database agree on one token", async () => {
    const { meta } = await storage();
    const results = await Promise.all(
      [1, 2, 3].map((seed) =>
        resolveAdminToken({
          configured: null,
          host: "0.0.0.0",
          meta,
          random: new SeededRandom(seed),
        }),
      ),
    );
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(results.filter((r) => r.source === "generated")).toHaveLength(1);
  });
});
