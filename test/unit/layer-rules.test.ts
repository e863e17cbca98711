import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath } from "../support/doc-check.js";

/**
 * The layers ARCHITECTURE.md promises are held by Biome (biome.json
 * `overrides`), not by prose. These probes are files that break (or keep) a
 * rule, linted with the project's own configuration in a scratch copy of the
 * tree's shape, so the rules are shown to fire — and to stay quiet on what is
 * allowed. (A scratch directory, so a test run never puts a file into src/
 * that another run's lint would see.)
 */

const run = promisify(execFile);
const BIOME = repoPath("node_modules/.bin/biome");

interface Finding {
  category: string;
  path: string;
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "quizwire-layer-rules-"));
  const config = JSON.parse(readFileSync(repoPath("biome.json"), "utf8")) as Record<
    string,
    unknown
  >;
  delete config.$schema;
  config.vcs = { enabled: false };
  writeFileSync(join(dir, "biome.json"), JSON.stringify(config));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Lints one probe at `path` (as if it stood there in the tree) and returns its lint findings. */
async function lint(path: string, code: string): Promise<string[]> {
  const file = join(dir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, code);
  try {
    const out = await run(BIOME, ["lint", "--reporter=json", "--max-diagnostics=100", path], {
      cwd: dir,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
    const report = JSON.parse(out.stdout) as {
      diagnostics: Array<{ category: string; location: { path: string } }>;
    };
    return report.diagnostics
      .map((d): Finding => ({ category: d.category, path: d.location.path }))
      .filter((f) => f.category.startsWith("lint/"))
      .map((f) => f.category);
  } finally {
    rmSync(file);
  }
}

const RESTRICTED_IMPORT = "lint/style/noRestrictedImports";
const RESTRICTED_GLOBAL = "lint/style/noRestrictedGlobals";
const RESTRICTED_PROPERTY = "lint/nursery/noJsRestrictedProperties";

describe("layer rules (biome.json overrides)", () => {
  it.each(["src/domain/x.ts", "src/engine/x.ts", "src/engine/cluster/x.ts", "src/ports/x.ts"])(
    "%s: no sockets, HTTP, databases, Redis or node I/O",
    async (path) => {
      for (const mod of [
        "ws",
        "fastify",
        "kysely",
        "pg",
        "ioredis",
        "better-sqlite3",
        "node:fs",
        "node:net",
      ]) {
        expect(await lint(path, `import * as m from "${mod}";\nexport { m };\n`), mod).toContain(
          RESTRICTED_IMPORT,
        );
      }
    },
  );

  it.each(["src/domain/x.ts", "src/engine/x.ts", "src/ports/x.ts"])(
    "%s: no global timers, Date.now, Math.random or performance.now",
    async (path) => {
      for (const code of [
        "setTimeout(() => {}, 1);",
        "setInterval(() => {}, 1);",
        "setImmediate(() => {});",
        "queueMicrotask(() => {});",
      ]) {
        expect(await lint(path, code), code).toContain(RESTRICTED_GLOBAL);
      }
      for (const code of [
        "export const t = Date.now();",
        "export const r = Math.random();",
        "export const p = performance.now();",
      ]) {
        expect(await lint(path, code), code).toContain(RESTRICTED_PROPERTY);
      }
    },
  );

  it("the core imports no adapter, door, server, service or SDK", async () => {
    for (const target of [
      "../adapters/memory/memory-rate-limiter.js",
      "../doors/door.js",
      "../server/app.js",
      "../services/session-service.js",
      "../sdk/client.js",
    ]) {
      expect(
        await lint("src/engine/x.ts", `import type * as m from "${target}";\nexport type { m };\n`),
        target,
      ).toContain(RESTRICTED_IMPORT);
    }
  });

  it("the domain takes only the Clock and Random types from the ports, and nothing from the engine", async () => {
    expect(
      await lint(
        "src/domain/x.ts",
        'import type { Random } from "../ports/clock.js";\nexport type { Random };\n',
      ),
    ).toEqual([]);
    expect(
      await lint(
        "src/domain/x.ts",
        'import type { Storage } from "../ports/storage.js";\nexport type { Storage };\n',
      ),
    ).toContain(RESTRICTED_IMPORT);
    expect(
      await lint(
        "src/domain/x.ts",
        'import type { Room } from "../engine/room.js";\nexport type { Room };\n',
      ),
    ).toContain(RESTRICTED_IMPORT);
  });

  it("doors import no adapter, no composition, and reach sessions only through RoomHandle", async () => {
    const door = "src/doors/canonical/x.ts";
    for (const target of [
      "../../adapters/memory/memory-rate-limiter.js",
      "../../server/app.js",
      "../../engine/room.js",
      "../../engine/room-runtime.js",
      "../../engine/group-committer.js",
      "../../engine/cluster/session-proxy.js",
    ]) {
      expect(
        await lint(door, `import type * as m from "${target}";\nexport type { m };\n`),
        target,
      ).toContain(RESTRICTED_IMPORT);
    }
    expect(
      await lint(
        door,
        'import type { RoomHandle } from "../../engine/room-handle.js";\nimport { isAfter } from "../../engine/event-order.js";\nexport type { RoomHandle };\nexport { isAfter };\n',
      ),
    ).toEqual([]);
  });

  it("only the transport meets `ws`; timers stay allowed in doors", async () => {
    const ws = 'import type { WebSocket } from "ws";\nexport type { WebSocket };\n';
    expect(await lint("src/doors/canonical/x.ts", ws)).toContain(RESTRICTED_IMPORT);
    expect(await lint("src/doors/ws-kit/driver.ts", ws)).toContain(RESTRICTED_IMPORT);
    expect(await lint("src/doors/ws-kit/ws-transport.ts", ws)).toEqual([]);
    expect(await lint("src/doors/canonical/x.ts", "setTimeout(() => {}, 1);\n")).toEqual([]);
  });
});
