/**
 * `npm run demo` (scripts/demo-game.ts) as a showcase: run for real against a test server, fast
 * (DEMO_PACE), its printout read as a person would read it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/test-app.js";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "../..");

describe("npm run demo", () => {
  let t: TestApp;
  let url: string;
  let cwd: string;
  beforeAll(async () => {
    t = await createTestApp({ DEMO_CONTENT: "true" });
    url = `http://127.0.0.1:${await t.app.listen()}`;
    cwd = mkdtempSync(join(tmpdir(), "quizwire-demo-"));
  });
  afterAll(async () => {
    await t?.close();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it("plays the whole quiz: typed questions and answers printed, players who know some answers", {
    timeout: 120_000,
  }, async () => {
    const { stdout } = await run(
      join(REPO, "node_modules", ".bin", "tsx"),
      [join(REPO, "scripts", "demo-game.ts")],
      { cwd, env: { ...process.env, QUIZWIRE_URL: url, DEMO_PACE: "0.05" }, timeout: 110_000 },
    );
    const lines = stdout.split("\n");
    // Every one of the 20 questions was asked, and typed ones say so instead of showing "[]".
    expect(lines.filter((l) => /^Q\d+\/20: /.test(l))).toHaveLength(20);
    expect(stdout).not.toContain("[]");
    expect(stdout).toContain("What is the chemical symbol for gold?  (type the answer)");
    // Typed answers are printed as typed, and a player who knows one gets it right.
    expect(stdout).toMatch(/^ {2}Ann answered “Au”: right, \+\d+ → \d+/m);
    expect(stdout).toMatch(/^ {2}\w+ answered “no idea”: wrong, \+0 → \d+/m);
    // Ann knows most answers, Cyd few: neither everything right nor everything wrong.
    const rights = (name: string) =>
      lines.filter((l) => l.startsWith(`  ${name} answered`) && l.includes(": right")).length;
    expect(rights("Ann")).toBeGreaterThan(rights("Bob"));
    expect(rights("Bob")).toBeGreaterThan(rights("Cyd"));
    expect(rights("Ann")).toBeLessThan(20);
    expect(rights("Cyd")).toBeGreaterThan(0);
    expect(stdout).toMatch(/^Podium: 1\. Ann \(\d+\)/m);
    const csv = readFileSync(join(cwd, "results.csv"), "utf8");
    expect(csv).toMatch(/^\uFEFFrank,name,score,correct/);
  });
});
