/**
 * What the doc ↔ schema drift tests share: reading a document of the repository, cutting its
 * markdown into sections, pulling out fenced examples and table rows, and the checking loops
 * that run every example, walk-through line and close code against the code.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The absolute path of `path`, relative to the repository's root. */
export function repoPath(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/** The text of a file of the repository (`path` relative to its root). */
export function readRepoFile(path: string): string {
  return readFileSync(repoPath(path), "utf8");
}

/** A heading and what stands under it, up to the next heading of the same level. */
export interface Section {
  heading: string;
  body: string;
}

/** Splits markdown at headings of exactly `level` (outside fenced code blocks). */
export function sections(text: string, level: number): Section[] {
  const out: Section[] = [];
  let current: Section | null = null;
  let fenced = false;
  const marker = `${"#".repeat(level)} `;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (!fenced && line.startsWith(marker)) {
      current = { heading: line.slice(marker.length).trim(), body: "" };
      out.push(current);
    } else if (current) {
      current.body += `${line}\n`;
    }
  }
  return out;
}

/** The body of the one section in `found`; fails the test unless there is exactly one. */
export function only(found: Section[], what: string): string {
  expect(found, `exactly one ${what}`).toHaveLength(1);
  return found[0]!.body;
}

/** The body of the one level-`level` section of `text` headed `name`. */
export function section(text: string, level: number, name: string): string {
  return only(
    sections(text, level).filter((s) => s.heading === name),
    `"${"#".repeat(level)} ${name}"`,
  );
}

/** A section whose heading is one code span: a message type, an endpoint. */
export interface NamedSection {
  name: string;
  body: string;
}

/**
 * The `### \`name\`` sections of `top`, with their bodies. Every heading must be one code span
 * matching `pattern` (its first group is the name); `what` names it in the failure message.
 */
export function namedSections(top: string, pattern: RegExp, what: string): NamedSection[] {
  return sections(top, 3).map((s) => {
    const m = pattern.exec(s.heading);
    expect(m, `heading "### ${s.heading}" must be a single \`${what}\``).not.toBeNull();
    return { name: m![1]!, body: s.body };
  });
}

/** The fenced blocks of `text` whose info string is exactly `info` ("json", "json request", …). */
export function codeBlocks(text: string, info: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^```([a-z ]*)\n([\s\S]*?)^```$/gm)) {
    if (m[1]!.trim() === info) out.push(m[2]!);
  }
  return out;
}

/** The `code` in the first cell of each table row: what a table documents. */
export function firstColumn(text: string): string[] {
  return [...text.matchAll(/^\| `([A-Za-z_0-9]+)` \|/gm)].map((m) => m[1]!);
}

/** Table rows as cells (code spans unwrapped), for rows whose first cell is `code`. */
export function tableRows(text: string): string[][] {
  return [...text.matchAll(/^\| `[^`]+` \|.*$/gm)].map((m) =>
    m[0]
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim().replace(/^`|`$/g, "")),
  );
}

/** Parses an example, failing with the example in the message when it is not JSON. */
export function parseJson(block: string, where: string): unknown {
  try {
    return JSON.parse(block);
  } catch (err) {
    throw new Error(`${where}: example is not valid JSON: ${(err as Error).message}\n${block}`);
  }
}

/** A compiled schema, as typebox's `Compile` gives it. */
export interface SchemaValidator {
  Check(value: unknown): boolean;
  Errors(value: unknown): Iterable<{ instancePath: string; message: string }>;
}

/** What `validator` finds wrong with `value`, each prefixed with `prefix`; [] when it passes. */
export function validatorProblems(
  validator: SchemaValidator,
  value: unknown,
  prefix = "",
): string[] {
  if (validator.Check(value)) return [];
  return [...validator.Errors(value)].map(
    (e) => `${`${prefix}${e.instancePath}` || "(root)"} ${e.message}`,
  );
}

/** What is wrong with one example: [] when it passes. */
export type ExampleCheck = (value: unknown) => string[];

function checkBlocks(blocks: string[], where: string, check: ExampleCheck): number {
  for (const block of blocks) {
    expect(check(parseJson(block, where)), `${where} example:\n${block}`).toEqual([]);
  }
  return blocks.length;
}

/** Checks every fenced block of `text` tagged `info` with `check`; returns how many there were. */
export function checkJsonExamples(
  text: string,
  where: string,
  check: ExampleCheck,
  info = "json",
): number {
  return checkBlocks(codeBlocks(text, info), where, check);
}

/**
 * Checks the JSON examples of the sections named `name` with `check`, and that there is at
 * least one.
 */
export function checkNamedExamples(named: NamedSection[], name: string, check: ExampleCheck): void {
  const blocks = named.filter((s) => s.name === name).flatMap((s) => codeBlocks(s.body, "json"));
  expect(blocks.length, `at least one json example for ${name}`).toBeGreaterThan(0);
  checkBlocks(blocks, name, check);
}

/**
 * Checks a walk-through: each line of its ```text blocks is `→ {client frame}` or
 * `← {server frame}` (blank lines and # comments aside), and there are more than ten.
 */
export function checkWalkThrough(walk: string, client: ExampleCheck, server: ExampleCheck): void {
  let checked = 0;
  for (const block of codeBlocks(walk, "text")) {
    for (const line of block.split("\n")) {
      const t = line.trim();
      if (t === "" || t.startsWith("#")) continue;
      const arrow = t.slice(0, 1);
      expect(["→", "←"], `walk-through line must start with → or ←: ${t}`).toContain(arrow);
      const frame = parseJson(t.slice(1).trim(), "walk-through");
      expect(arrow === "→" ? client(frame) : server(frame), t).toEqual([]);
      checked += 1;
    }
  }
  expect(checked).toBeGreaterThan(10);
}

/** Checks that `doc` has a `| \`code\` | \`NAME\` |` row for every close code. */
export function checkCloseCodes(doc: string, codes: Record<string, number>): void {
  for (const [name, code] of Object.entries(codes)) {
    expect(doc, `close code ${name}`).toContain(`| \`${code}\` | \`${name}\` |`);
  }
}

/** Checks that no entry of a table's first column stands in it twice. */
export function checkListedOnce(documented: string[]): void {
  const repeated = documented.filter((r, i) => documented.indexOf(r) !== i);
  expect(repeated, "each code and reason is listed once").toEqual([]);
}

/** The first group of every match of `patterns` in the files `paths` (relative to the root). */
export function scanSources(paths: string[], patterns: RegExp[]): Set<string> {
  const found = new Set<string>();
  for (const path of paths) {
    const text = readRepoFile(path);
    for (const re of patterns) for (const m of text.matchAll(re)) found.add(m[1]!);
  }
  return found;
}

/** Checks that a scan found what it is known to find: if this fails, fix the scan's patterns. */
export function checkScanFound(found: Set<string>, known: string[]): void {
  for (const k of known) expect(found, `scan found ${k}`).toContain(k);
}
