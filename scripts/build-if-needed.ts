/**
 * `npm start`'s first step: builds the server (tsc) and the web app (Vite) only when their
 * sources changed since the last build, and says what it is doing while it builds. A start with
 * nothing changed goes straight to the server.
 *
 * What was built from what is kept in dist/.build-stamp.json: a fingerprint (SHA-256 over the
 * path and bytes of every input file) per target. Content, not mtimes: a fresh checkout or a
 * `git stash` round trip changes mtimes without changing what would be built.
 *
 *   tsx scripts/build-if-needed.ts           # build what is stale
 *   tsx scripts/build-if-needed.ts --force   # build everything
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface BuildTarget {
  name: string;
  /** What it is, for people: "the server (TypeScript)". */
  label: string;
  /** Files and folders (relative to the repository) whose contents decide the output. */
  inputs: readonly string[];
  /** A file the build writes: when it is missing, the target is built whatever the stamp says. */
  output: string;
  /** The program and its arguments, run from the repository root. */
  command: readonly [string, ...string[]];
}

/** Fingerprints of the last successful build, by target name. */
export type BuildStamp = Record<string, string>;

const SKIP = new Set(["node_modules", "dist", ".git", "test-results", "data"]);

/** Every file under `inputs` (folders walked, skipping build output and dependencies), sorted. */
export function inputFiles(root: string, inputs: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) if (!SKIP.has(entry)) walk(join(path, entry));
    } else {
      files.push(relative(root, path).split(sep).join("/"));
    }
  };
  for (const input of inputs) walk(join(root, input));
  return [...new Set(files)].sort();
}

/** SHA-256 over the path and bytes of every input file. */
export function fingerprint(root: string, inputs: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of inputFiles(root, inputs)) {
    hash.update(file);
    hash.update("\0");
    hash.update(readFileSync(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The targets to build: those whose output is missing or whose inputs changed since the stamp. */
export function staleTargets(
  targets: readonly BuildTarget[],
  stamp: BuildStamp,
  current: BuildStamp,
  outputExists: (path: string) => boolean,
): BuildTarget[] {
  return targets.filter((t) => !outputExists(t.output) || stamp[t.name] !== current[t.name]);
}

export function readStamp(path: string): BuildStamp {
  try {
    const raw = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof raw !== "object" || raw === null) return {};
    return Object.fromEntries(
      Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  } catch {
    return {};
  }
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const bin = (pkg: string, file: string) => join(ROOT, "node_modules", pkg, file);

/** The two builds `npm start` needs. The web app imports the SDK and schemas from src/. */
export const TARGETS: readonly BuildTarget[] = [
  {
    name: "server",
    label: "the server (TypeScript → dist/)",
    inputs: ["src", "tsconfig.json", "tsconfig.build.json", "package-lock.json"],
    output: "dist/main.js",
    command: [process.execPath, bin("typescript", "bin/tsc"), "-p", "tsconfig.build.json"],
  },
  {
    name: "web",
    label: "the web app (Vite → dist/web/)",
    inputs: ["web", "src", "tsconfig.json", "package-lock.json"],
    output: "dist/web/index.html",
    command: [
      process.execPath,
      bin("vite", "bin/vite.js"),
      "build",
      "--config",
      "web/vite.config.ts",
    ],
  },
];

export const STAMP_PATH = "dist/.build-stamp.json";

export interface BuildOptions {
  /** The repository root: inputs, outputs, the stamp and the commands are relative to it. */
  root: string;
  targets: readonly BuildTarget[];
  /** Build every target whatever the stamp says. */
  force?: boolean;
  /** Where progress goes (a line at a time). */
  log?: (line: string) => void;
  /** How often a build that is still running says so. */
  heartbeatMs?: number;
}

function run(target: BuildTarget, root: string, log: (line: string) => void, heartbeatMs: number) {
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
  log(`quizwire: building ${target.label}…`);
  // tsc says nothing until it is done (a minute or more on a first build): a heartbeat meanwhile.
  const heartbeat = setInterval(
    () => log(`quizwire:   still building ${target.name}… ${Math.round(Number(elapsed()))} s`),
    heartbeatMs,
  );
  const [cmd, ...args] = target.command;
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: "inherit",
      // A production build of the web app, whatever NODE_ENV the shell has.
      env: { ...process.env, NODE_ENV: "production" },
    });
    child.on("error", (err) => {
      clearInterval(heartbeat);
      reject(err);
    });
    child.on("exit", (code) => {
      clearInterval(heartbeat);
      if (code === 0) {
        log(`quizwire: built ${target.name} in ${elapsed()} s`);
        resolve();
      } else {
        reject(new Error(`building ${target.name} failed (exit code ${code})`));
      }
    });
  });
}

/** Builds the stale targets one after the other, stamping each once it built; returns their names. */
export async function buildIfNeeded(opts: BuildOptions): Promise<string[]> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const stampPath = join(opts.root, STAMP_PATH);
  const stamp = opts.force ? {} : readStamp(stampPath);
  const current: BuildStamp = Object.fromEntries(
    opts.targets.map((t) => [t.name, fingerprint(opts.root, t.inputs)]),
  );
  const stale = staleTargets(opts.targets, stamp, current, (p) => existsSync(join(opts.root, p)));
  if (stale.length === 0) {
    log("quizwire: the build is up to date (no source changed since the last build)");
    return [];
  }
  const next = { ...readStamp(stampPath) };
  for (const target of stale) {
    await run(target, opts.root, log, opts.heartbeatMs ?? 10_000);
    next[target.name] = current[target.name] ?? "";
    mkdirSync(dirname(stampPath), { recursive: true });
    writeFileSync(stampPath, `${JSON.stringify(next, null, 2)}\n`);
  }
  return stale.map((t) => t.name);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildIfNeeded({ root: ROOT, targets: TARGETS, force: process.argv.includes("--force") }).catch(
    (err: unknown) => {
      console.error(`quizwire: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
