import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/domain/errors.js";
import {
  CLIENT_TYPES,
  CLOSE_CODES,
  type ClientType,
  clientValidators,
  envelopeValidator,
  isClientType,
  PROTOCOL_VERSION,
  SERVER_TYPES,
  type ServerType,
  serverValidators,
} from "../../src/doors/canonical/protocol.js";

/**
 * Keeps docs/protocol.md and src/doors/canonical/protocol.ts from drifting apart: every message
 * type has its section, every example is a frame the server would accept (client) or could send
 * (server), and every error code, engine reason and close code is documented.
 */

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DOC = readFileSync(root("docs/protocol.md"), "utf8");

interface Section {
  heading: string;
  body: string;
}

/** Splits markdown at headings of exactly `level` (outside fenced code blocks). */
function sections(text: string, level: number): Section[] {
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

function topSection(name: string): string {
  const found = sections(DOC, 2).filter((s) => s.heading === name);
  expect(found, `exactly one "## ${name}"`).toHaveLength(1);
  return found[0]!.body;
}

/** `### \`type\`` headings of a top-level section, with their bodies. */
function messageSections(top: string): Array<{ type: string; body: string }> {
  return sections(top, 3).map((s) => {
    const m = /^`([a-z_]+)`$/.exec(s.heading);
    expect(m, `heading "### ${s.heading}" must be a single \`type\``).not.toBeNull();
    return { type: m![1]!, body: s.body };
  });
}

/** The contents of the fenced blocks tagged `lang` in `text`. */
function codeBlocks(text: string, lang: string): string[] {
  const out: string[] = [];
  const re = /^```([a-z]*)\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(re)) if (m[1] === lang) out.push(m[2]!);
  return out;
}

/** The `code` in the first cell of each table row: what a table documents. */
function firstColumn(text: string): string[] {
  return [...text.matchAll(/^\| `([A-Za-z_0-9]+)` \|/gm)].map((m) => m[1]!);
}

const SERVER_FRAME_KEYS = new Set(["v", "type", "msg_id", "room_id", "epoch", "seq", "at", "data"]);

/** Problems with a client frame, or [] when the server would accept it. */
function clientFrameProblems(frame: unknown, expectedType?: string): string[] {
  if (!envelopeValidator.Check(frame)) {
    return envelopeValidator.Errors(frame).map((e) => `envelope${e.instancePath} ${e.message}`);
  }
  const problems: string[] = [];
  if (expectedType !== undefined && frame.type !== expectedType) {
    problems.push(`type is "${frame.type}", expected "${expectedType}"`);
  }
  if (!isClientType(frame.type)) return [...problems, `unknown client type "${frame.type}"`];
  if (frame.data === undefined) problems.push("examples show complete frames: data is missing");
  const data = frame.data ?? {};
  const validator = clientValidators[frame.type as ClientType];
  if (!validator.Check(data)) {
    problems.push(...validator.Errors(data).map((e) => `data${e.instancePath} ${e.message}`));
  }
  return problems;
}

/** Problems with a server frame, or [] when it matches the schema of its type. */
function serverFrameProblems(frame: unknown, expectedType?: string): string[] {
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return ["not an object"];
  const f = frame as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(f))
    if (!SERVER_FRAME_KEYS.has(k)) problems.push(`unexpected key "${k}"`);
  if (f.v !== PROTOCOL_VERSION) problems.push(`v is ${String(f.v)}`);
  if (expectedType !== undefined && f.type !== expectedType) {
    problems.push(`type is "${String(f.type)}", expected "${expectedType}"`);
  }
  if (f.msg_id !== undefined && typeof f.msg_id !== "string")
    problems.push("msg_id is not a string");
  if (f.room_id !== undefined && typeof f.room_id !== "string")
    problems.push("room_id is not a string");
  for (const k of ["epoch", "seq", "at"] as const) {
    if (f[k] !== undefined && !Number.isInteger(f[k])) problems.push(`${k} is not an integer`);
  }
  if ((f.epoch === undefined) !== (f.seq === undefined)) problems.push("epoch and seq go together");
  if (typeof f.type !== "string" || !(SERVER_TYPES as string[]).includes(f.type)) {
    return [...problems, `unknown server type "${String(f.type)}"`];
  }
  const validator = serverValidators[f.type as ServerType];
  if (!validator.Check(f.data)) {
    problems.push(...validator.Errors(f.data).map((e) => `data${e.instancePath} ${e.message}`));
  }
  return problems;
}

function parseJson(block: string, where: string): unknown {
  try {
    return JSON.parse(block);
  } catch (err) {
    throw new Error(`${where}: example is not valid JSON: ${(err as Error).message}\n${block}`);
  }
}

describe("docs/protocol.md", () => {
  const client = messageSections(topSection("Client messages"));
  const server = messageSections(topSection("Server messages"));

  it("has exactly one section per client message type, in protocol order", () => {
    expect(client.map((s) => s.type)).toEqual(CLIENT_TYPES);
  });

  it("has exactly one section per server message type, in protocol order", () => {
    expect(server.map((s) => s.type)).toEqual(SERVER_TYPES);
  });

  it.each(CLIENT_TYPES)("client `%s`: its JSON examples are frames the server accepts", (type) => {
    const blocks = client.filter((s) => s.type === type).flatMap((s) => codeBlocks(s.body, "json"));
    expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
    for (const block of blocks) {
      const problems = clientFrameProblems(parseJson(block, type), type);
      expect(problems, `${type} example:\n${block}`).toEqual([]);
    }
  });

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    const blocks = server.filter((s) => s.type === type).flatMap((s) => codeBlocks(s.body, "json"));
    expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
    for (const block of blocks) {
      const problems = serverFrameProblems(parseJson(block, type), type);
      expect(problems, `${type} example:\n${block}`).toEqual([]);
    }
  });

  it("walk-through frames are complete, valid frames in both directions", () => {
    const walk = sections(DOC, 2).find((s) => s.heading.startsWith("Walk-through"));
    expect(walk, "a ## Walk-through section").toBeDefined();
    let checked = 0;
    for (const block of codeBlocks(walk!.body, "text")) {
      for (const line of block.split("\n")) {
        const t = line.trim();
        if (t === "" || t.startsWith("#")) continue;
        const arrow = t.slice(0, 1);
        expect(["→", "←"], `walk-through line must start with → or ←: ${t}`).toContain(arrow);
        const frame = parseJson(t.slice(1).trim(), "walk-through");
        const problems = arrow === "→" ? clientFrameProblems(frame) : serverFrameProblems(frame);
        expect(problems, t).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("documents every error code under ## Errors", () => {
    const documented = firstColumn(topSection("Errors"));
    for (const code of Object.keys(ERROR_CODES)) {
      expect(documented, `error code ${code} has its own row`).toContain(code);
    }
  });

  it("documents every reason the engine and the gateway use under ## Errors", () => {
    const errors = topSection("Errors");
    const reasons = new Set<string>();
    const sources = [
      "src/engine/room.ts",
      "src/engine/room-runtime.ts",
      "src/domain/names.ts",
      "src/services/session-service.ts",
      "src/doors/canonical/gateway.ts",
    ];
    // fail("CODE", "msg", "reason"), reply(…), new ProtocolError(…), strike(conn, id, …), and
    // error objects { code: "CODE", msg: "…", reason: "x" }.
    const call =
      /(?:fail|reply|ProtocolError|strike|sendError|errorFrame)\(\s*(?:[\w.]+,\s*)*"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*(?:[\w.?:"\s]+\?\s*)?"([a-z_]+)"/g;
    const field =
      /code:\s*"[A-Z_]+",\s*msg:\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*reason:\s*"([a-z_]+)"/g;
    for (const path of sources) {
      let text: string;
      try {
        text = readFileSync(root(path), "utf8");
      } catch {
        continue; // a door not written yet has nothing to document
      }
      for (const m of text.matchAll(call)) reasons.add(m[1]!);
      for (const m of text.matchAll(field)) reasons.add(m[1]!);
    }
    // The scan must keep finding the engine's reasons; if this fails, fix the patterns above.
    for (const known of [
      "room_ended",
      "too_late",
      "not_host",
      "invalid_name",
      "storage_unavailable",
    ]) {
      expect(reasons, `scan found ${known}`).toContain(known);
    }
    const documented = firstColumn(errors);
    const repeated = documented.filter((r, i) => documented.indexOf(r) !== i);
    expect(repeated, "each code and reason is listed once").toEqual([]);
    for (const reason of reasons) {
      expect(documented, `reason ${reason} has its own row`).toContain(reason);
    }
  });

  it("documents every close code", () => {
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      expect(DOC, `close code ${name}`).toContain(`| \`${code}\` | \`${name}\` |`);
    }
  });

  it("names the canonical path", () => {
    expect(DOC).toContain("`/ws/v1`");
  });
});
