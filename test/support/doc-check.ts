/**
 * The one checker of the protocol documents (docs/protocol.md, docs/protocols/*.md) against the
 * protocol modules. A door's test file describes its document with a `ProtocolDocSpec`: which
 * sections list which messages or endpoints (in the protocol module's order), how a message of
 * each direction is checked, which examples each entry must show, where the walk-through, the
 * close codes and the error tables are. `describeProtocolDoc` registers the checks every
 * document shares; what only one document has stays in its file, as extra tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// ---------------------------------------------------------------------------------------------
// Reading markdown

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
function namedSections(top: string, pattern: RegExp, what: string): NamedSection[] {
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
function firstColumn(text: string): string[] {
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

/** One protocol document, read once. */
export class ProtocolDocument {
  readonly text: string;

  constructor(readonly path: string) {
    this.text = readRepoFile(path);
  }

  /**
   * The body under a path of headings, one level down each: `at("Errors", "Codes")` is the
   * `### Codes` inside `## Errors`. Fails the test unless each heading is there exactly once.
   */
  at(...headings: string[]): string {
    return headings.reduce((body, heading, i) => section(body, i + 2, heading), this.text);
  }
}

// ---------------------------------------------------------------------------------------------
// Checking examples

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

/** What is wrong with one message, given the type its section documents (if any). */
export type MessageCheck = (message: unknown, expectedType?: string) => string[];

/** How the messages of one direction of one door are built. */
export interface MessageRules {
  /** The compiled schema of each message type of this direction: the types are its keys. */
  validators: Readonly<Record<string, SchemaValidator>>;
  /** A schema the whole message must pass before anything else (the client envelope). */
  envelope?: SchemaValidator;
  /** The member holding the message's own fields ("data", "payload"); without it the type's schema checks the whole message. */
  body?: string;
  /** What the body's schema is given when a message has none (clients may leave an empty body out). */
  absentBody?: unknown;
  /** Examples show whole messages: a message without `body` is a problem even where it may be left out. */
  bodyShown?: boolean;
  /** The only top-level members a message may have. */
  keys?: readonly string[];
  /** The door's own envelope rules: each gives a problem, or undefined when the message keeps it. */
  rules?: ReadonlyArray<(message: Record<string, unknown>) => string | undefined>;
}

/** An envelope rule: `key`, when present, is a string. */
export const stringIfPresent = (key: string) => (m: Record<string, unknown>) =>
  m[key] === undefined || typeof m[key] === "string" ? undefined : `${key} is not a string`;

/** An envelope rule: `key`, when present, is an integer. */
export const integerIfPresent = (key: string) => (m: Record<string, unknown>) =>
  m[key] === undefined || Number.isInteger(m[key]) ? undefined : `${key} is not an integer`;

/** The check of one direction's messages, built from its rules. */
function messageCheck(rules: MessageRules): MessageCheck {
  return (message, expectedType) => {
    if (rules.envelope && !rules.envelope.Check(message)) {
      return validatorProblems(rules.envelope, message, "envelope");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      return ["not an object"];
    }
    const m = message as Record<string, unknown>;
    const problems: string[] = [];
    if (rules.keys) {
      for (const k of Object.keys(m))
        if (!rules.keys.includes(k)) problems.push(`unexpected key "${k}"`);
    }
    for (const rule of rules.rules ?? []) {
      const problem = rule(m);
      if (problem !== undefined) problems.push(problem);
    }
    if (expectedType !== undefined && m.type !== expectedType) {
      problems.push(`type is "${String(m.type)}", expected "${expectedType}"`);
    }
    const known = typeof m.type === "string" && Object.hasOwn(rules.validators, m.type);
    const validator = known ? rules.validators[m.type as string] : undefined;
    if (validator === undefined) return [...problems, `unknown type "${String(m.type)}"`];
    if (rules.body === undefined) return [...problems, ...validatorProblems(validator, m)];
    if (rules.bodyShown && m[rules.body] === undefined) {
      problems.push(`examples show complete messages: ${rules.body} is missing`);
    }
    const body = m[rules.body] === undefined ? rules.absentBody : m[rules.body];
    return [...problems, ...validatorProblems(validator, body, rules.body)];
  };
}

/** Checks every fenced block of `text` tagged `info` with `check`; returns how many there were. */
export function checkJsonExamples(
  text: string,
  where: string,
  check: ExampleCheck,
  info = "json",
): number {
  const blocks = codeBlocks(text, info);
  for (const block of blocks) {
    expect(check(parseJson(block, where)), `${where} example:\n${block}`).toEqual([]);
  }
  return blocks.length;
}

/**
 * A check of one entry's section: for each info string ("json", "json request", …) it shows at
 * least one example, and every example passes the check given for that info string (which also
 * gets the entry's name, e.g. the type the section documents).
 */
export function examplesOf(
  kinds: Readonly<Record<string, (value: unknown, name: string) => string[]>>,
): (entry: NamedSection) => void {
  return (entry) => {
    for (const [info, check] of Object.entries(kinds)) {
      const n = checkJsonExamples(
        entry.body,
        `${entry.name} ${info}`,
        (v) => check(v, entry.name),
        info,
      );
      expect(n, `at least one \`\`\`${info} example for ${entry.name}`).toBeGreaterThan(0);
    }
  };
}

/**
 * Checks a walk-through: each line of its ```text blocks is `→ {client message}` or
 * `← {server message}` (blank lines and # comments aside), and there are more than ten.
 */
function checkWalkThrough(walk: string, client: ExampleCheck, server: ExampleCheck): void {
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

// ---------------------------------------------------------------------------------------------
// Reasons: what the code says when it refuses, found in its sources

/** String literal or template literal, as the patterns below match a message argument. */
const TEXT = String.raw`(?:"(?:[^"\\]|\\.)*"|\`(?:[^\`\\]|\\.)*\`)`;

/**
 * How the engine and the doors give a reason: `fail("CODE", msg, "reason")` and its kin
 * (`reply`, `new ProtocolError`, `strike(conn, …)`, `sendError`, `errorFrame`, `errorOut`, `RestError`), with
 * the message a literal or a name and the reason possibly after a ternary; and error objects
 * `{ code: "CODE", msg: "…", reason: "x" }`.
 */
export const REASON_PATTERNS: readonly RegExp[] = [
  new RegExp(
    String.raw`(?:fail|reply|ProtocolError|strike|sendError|errorFrame|errorOut|RestError)\(\s*(?:[\w.]+,\s*)*"[A-Z_]+",\s*(?:${TEXT}|[\w.]+),\s*(?:[\w.?:"\s]+\?\s*)?"([a-z_]+)"`,
    "g",
  ),
  new RegExp(String.raw`code:\s*"[A-Z_]+",\s*msg:\s*${TEXT},\s*reason:\s*"([a-z_]+)"`, "g"),
];

/** The sources of the reasons every room gives, whichever door passes them on. */
export const ROOM_REASON_SOURCES: readonly string[] = [
  "src/engine/room.ts",
  "src/engine/room-runtime.ts",
  "src/domain/names.ts",
];

/** Where to look for reasons, and some that the scan must find (if it does not, fix the scan). */
export interface ReasonScan {
  /** Files, relative to the repository root. */
  sources: readonly string[];
  /** Patterns whose first group is a reason; default REASON_PATTERNS. */
  patterns?: readonly RegExp[];
  /** Reasons known to be in the sources: proof the patterns still match how the code is written. */
  known: readonly string[];
}

/** Every reason the scan finds; fails when a source is missing or a known reason is not found. */
export function scanReasons(scan: ReasonScan): Set<string> {
  const found = new Set<string>();
  for (const path of scan.sources) {
    expect(existsSync(repoPath(path)), `${path} exists (a source moved? update the list)`).toBe(
      true,
    );
    const text = readRepoFile(path);
    for (const re of scan.patterns ?? REASON_PATTERNS) {
      for (const m of text.matchAll(re)) found.add(m[1]!);
    }
  }
  for (const k of scan.known) expect(found, `the scan found ${k}`).toContain(k);
  return found;
}

// ---------------------------------------------------------------------------------------------
// What every protocol document is checked for

/** A `##` section listing the entries of one list of the protocol module, one `###` each. */
export interface Catalogue {
  /** The `##` heading. */
  section: string;
  /** What one entry is, for test names: "client message", "REST endpoint". */
  entry: string;
  /** How a `###` heading spells an entry: one code span, the name as the first group. */
  heading: RegExp;
  /** The entries, in the order the protocol module lists them. */
  names: readonly string[];
  /** Tests run for every entry's section, by title (e.g. from `examplesOf`). */
  each: Readonly<Record<string, (entry: NamedSection) => void>>;
}

/** The messages of one direction: their types in protocol order, and how they are built. */
export interface Direction extends MessageRules {
  types: readonly string[];
}

/** The document's description: everything is optional but the path. */
export interface ProtocolDocSpec {
  /** The document, relative to the repository root. */
  path: string;
  /**
   * A WebSocket dialect's messages, documented as every door documents them: one `### \`type\``
   * section per message under `## Client messages` and `## Server messages`, each with JSON
   * examples, and a `## Walk-through` whose lines are messages, `→` client and `←` server.
   */
  messages?: {
    /** How a `###` heading spells a type: one code span, the type as the first group. */
    heading: RegExp;
    client: Direction;
    server: Direction;
  };
  /** Other sections listing the entries of a list of the protocol module (endpoints, …). */
  catalogues?: readonly Catalogue[];
  /** The close codes the door uses, and the headings of the table that must list them and no other. */
  closeCodes?: { at: readonly string[]; codes: Readonly<Record<string, number>> };
  /** Tables whose first column must hold every error code and reason, each in one row. */
  errors?: {
    at: readonly string[];
    codes: readonly string[];
    /** Reasons found in the sources, and those the door passes on from elsewhere, named here. */
    reasons: ReasonScan & { also?: readonly string[] };
  };
  /** Text a client needs that the document must spell exactly so: paths, settings. */
  mentions?: readonly string[];
}

/**
 * Registers the checks `spec` asks for in a describe block named after the document; `particular`
 * registers the document's own tests in the same block.
 */
export function describeProtocolDoc(
  spec: ProtocolDocSpec,
  particular?: (doc: ProtocolDocument) => void,
): void {
  const doc = new ProtocolDocument(spec.path);
  const catalogues = [...(spec.catalogues ?? [])];
  let walkThrough: { client: MessageCheck; server: MessageCheck } | undefined;
  if (spec.messages) {
    const { heading } = spec.messages;
    const client = messageCheck(spec.messages.client);
    const server = messageCheck(spec.messages.server);
    catalogues.push(
      {
        section: "Client messages",
        entry: "client message",
        heading,
        names: spec.messages.client.types,
        each: { "its JSON examples are messages the server accepts": examplesOf({ json: client }) },
      },
      {
        section: "Server messages",
        entry: "server message",
        heading,
        names: spec.messages.server.types,
        each: { "its JSON examples match the schema": examplesOf({ json: server }) },
      },
    );
    walkThrough = { client, server };
  }
  describe(spec.path, () => {
    for (const c of catalogues) {
      const entries = () => namedSections(doc.at(c.section), c.heading, c.entry);

      it(`has exactly one section per ${c.entry}, in protocol order`, () => {
        expect(entries().map((s) => s.name)).toEqual(c.names);
      });

      for (const [title, check] of Object.entries(c.each)) {
        it.each(c.names)(`${c.entry} \`%s\`: ${title}`, (name) => {
          const found = entries().filter((s) => s.name === name);
          expect(found, `one section for ${c.entry} ${name}`).toHaveLength(1);
          check(found[0]!);
        });
      }
    }

    if (walkThrough) {
      const { client, server } = walkThrough;
      it("walk-through: every line is a complete, valid message in its direction", () => {
        const walk = sections(doc.text, 2).filter((s) => s.heading.startsWith("Walk-through"));
        checkWalkThrough(only(walk, "## Walk-through section"), client, server);
      });
    }

    const close = spec.closeCodes;
    if (close) {
      it("documents every close code, and no other", () => {
        const rows = [...doc.at(...close.at).matchAll(/^\| `(\d{4})` \| `([A-Za-z]+)` \|/gm)].map(
          (m) => `${m[1]} ${m[2]}`,
        );
        const expected = Object.entries(close.codes).map(([name, code]) => `${code} ${name}`);
        expect([...rows].sort()).toEqual([...expected].sort());
      });
    }

    const errors = spec.errors;
    if (errors) {
      it("documents every error code, each in a row of its own", () => {
        const documented = firstColumn(doc.at(...errors.at));
        const repeated = documented.filter((r, i) => documented.indexOf(r) !== i);
        expect(repeated, "each code and reason is listed once").toEqual([]);
        for (const code of errors.codes) {
          expect(documented, `error code ${code} has its own row`).toContain(code);
        }
      });

      it("documents every reason the door can give, each in a row of its own", () => {
        const documented = firstColumn(doc.at(...errors.at));
        const reasons = [...scanReasons(errors.reasons), ...(errors.reasons.also ?? [])];
        for (const reason of reasons) {
          expect(documented, `reason ${reason} has its own row`).toContain(reason);
        }
      });
    }

    const mentions = spec.mentions;
    if (mentions) {
      it(`spells out ${mentions.join(", ")}`, () => {
        for (const text of mentions) expect(doc.text).toContain(text);
      });
    }

    particular?.(doc);
  });
}
