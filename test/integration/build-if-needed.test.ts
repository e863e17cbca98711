/**
 * `npm start` builds only when sources changed (scripts/build-if-needed.ts), driven here with
 * small stand-in builds (node one-liners) in a temporary folder: real processes, real files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BuildTarget,
  buildIfNeeded,
  fingerprint,
  STAMP_PATH,
  staleTargets,
  TARGETS,
} from "../../scripts/build-if-needed.js";

/** A build that appends its name to built.log and writes its output file. */
function target(name: string, inputs: string[], script = ""): BuildTarget {
  const out = `out/${name}.txt`;
  return {
    name,
    label: `the ${name}`,
    inputs,
    output: out,
    command: [
      process.execPath,
      "-e",
      `${script}
       const fs = require("node:fs");
       fs.mkdirSync("out", { recursive: true });
       fs.appendFileSync("built.log", ${JSON.stringify(name)} + "\\n");
       fs.writeFileSync(${JSON.stringify(out)}, "ok");`,
    ],
  };
}

describe("build-if-needed: npm start builds what changed, and only that", () => {
  let root: string;
  let lines: string[];
  const built = () => {
    try {
      return readFileSync(join(root, "built.log"), "utf8").trim().split("\n");
    } catch {
      return [];
    }
  };
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "quizwire-build-"));
    lines = [];
    write("src/a.ts", "export const a = 1;");
    write("src/node_modules/ignored.js", "x");
    write("web/page.tsx", "export const p = 1;");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const targets = () => [target("server", ["src"]), target("web", ["web", "src"])];
  const build = (extra: { force?: boolean } = {}) =>
    buildIfNeeded({ root, targets: targets(), log: (l) => lines.push(l), ...extra });

  it("builds everything the first time, saying what it builds, then nothing while sources are unchanged", async () => {
    expect(await build()).toEqual(["server", "web"]);
    expect(built()).toEqual(["server", "web"]);
    expect(lines).toContain("quizwire: building the server…");
    expect(lines.some((l) => /^quizwire: built web in \d+\.\d s$/.test(l))).toBe(true);
    const stamp = JSON.parse(readFileSync(join(root, STAMP_PATH), "utf8")) as Record<
      string,
      string
    >;
    expect(Object.keys(stamp)).toEqual(["server", "web"]);

    lines = [];
    expect(await build()).toEqual([]);
    expect(built()).toHaveLength(2);
    expect(lines).toEqual([
      "quizwire: the build is up to date (no source changed since the last build)",
    ]);
  });

  it("rebuilds only the targets whose inputs changed; the same bytes written again change nothing", async () => {
    await build();
    write("web/page.tsx", "export const p = 2;");
    expect(await build()).toEqual(["web"]);
    write("src/a.ts", "export const a = 2;");
    expect(await build()).toEqual(["server", "web"]);
    // A touch (new mtime, same content) and a change inside node_modules are not changes.
    write("src/a.ts", "export const a = 2;");
    write("src/node_modules/ignored.js", "y");
    expect(await build()).toEqual([]);
    // A new file is.
    write("src/b.ts", "export const b = 1;");
    expect(await build()).toEqual(["server", "web"]);
  });

  it("rebuilds a target whose output is gone, and everything with force", async () => {
    await build();
    rmSync(join(root, "out/server.txt"));
    expect(await build()).toEqual(["server"]);
    expect(await build({ force: true })).toEqual(["server", "web"]);
  });

  it("a failed build fails the start and is tried again next time", async () => {
    const failing = target("server", ["src"], "process.exit(3);");
    await expect(
      buildIfNeeded({ root, targets: [failing], log: (l) => lines.push(l) }),
    ).rejects.toThrow("building server failed (exit code 3)");
    expect(built()).toEqual([]);
    expect(await build()).toEqual(["server", "web"]);
  });

  it("says it is still building while a long build runs", async () => {
    // The build waits for a file that the test writes once it has seen the heartbeat.
    const slow: BuildTarget = {
      ...target("server", ["src"]),
      command: [
        process.execPath,
        "-e",
        `const fs = require("node:fs");
         const t = setInterval(() => {
           if (!fs.existsSync("go")) return;
           clearInterval(t);
           fs.mkdirSync("out", { recursive: true });
           fs.writeFileSync("out/server.txt", "ok");
         }, 20);`,
      ],
    };
    const result = buildIfNeeded({
      root,
      targets: [slow],
      heartbeatMs: 50,
      log: (l) => {
        lines.push(l);
        if (l.includes("still building server")) writeFileSync(join(root, "go"), "");
      },
    });
    expect(await result).toEqual(["server"]);
    expect(lines.some((l) => /^quizwire: {3}still building server… \d+ s$/.test(l))).toBe(true);
  });

  it("staleTargets: a changed fingerprint or a missing output makes a target stale", () => {
    const [server, web] = targets() as [BuildTarget, BuildTarget];
    const same = { server: "s1", web: "w1" };
    expect(staleTargets([server, web], same, same, () => true)).toEqual([]);
    expect(staleTargets([server, web], same, { server: "s2", web: "w1" }, () => true)).toEqual([
      server,
    ]);
    expect(staleTargets([server, web], {}, same, () => true)).toEqual([server, web]);
    expect(staleTargets([server, web], same, same, (p) => p !== web.output)).toEqual([web]);
  });

  it("the real targets: the server and the web app, from inputs that exist in this repository", () => {
    const repo = join(import.meta.dirname, "../..");
    expect(TARGETS.map((t) => [t.name, t.output])).toEqual([
      ["server", "dist/main.js"],
      ["web", "dist/web/index.html"],
    ]);
    for (const t of TARGETS) expect(fingerprint(repo, t.inputs)).toMatch(/^[0-9a-f]{64}$/);
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe("tsx scripts/build-if-needed.ts && node dist/main.js");
  });
});
