import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ENGINE_REASONS, fromDomainError, seedMessage } from "../../src/doors/seed001/errors.js";
import {
  CLIENT_TYPES,
  CLOSE_CODES,
  type ClientType,
  clientValidators,
  ERROR_CODE_LIST,
  ERROR_CODES,
  envelopeValidator,
  isClientType,
  SEED001_PATH,
  SERVER_TYPES,
  type ServerType,
  serverValidators,
} from "../../src/doors/seed001/protocol.js";

/**
 * Keeps docs/protocols/seed-001.md and src/doors/seed001/protocol.ts from drifting apart: every
 * message type has its section, every example is a message the server would accept (client) or
 * could send (server), and every error code, engine reason and close code is documented.
 */

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DOC = readFileSync(root("docs/protocols/seed-001.md"), "utf8");

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

function section(text: string, level: number, name: string): string {
  const found = sections(text, level).filter((s) => s.heading === name);
  expect(found, `exactly one "${"#".repeat(level)} ${name}"`).toHaveLength(1);
  return found[0]!.body;
}

/** `### \`TYPE\`` headings of a top-level section, with their bodies. */
function messageSections(top: string): Array<{ type: string; body: string }> {
  return sections(top, 3).map((s) => {
    const m = /^`([A-Z_]+)`$/.exec(s.heading);
    expect(m, `heading "### ${s.heading}" must be a single \`TYPE\``).not.toBeNull();
    return { type: m![1]!, body: s.body };
  });
}

function codeBlocks(text: string, lang: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)) {
    if (m[1] === lang) out.push(m[2]!);
  }
  return out;
}

/** Table rows as cells, for rows whose first cell is `code`. */
function rows(text: string): string[][] {
  return [...text.matchAll(/^\| `[^`]+` \|.*$/gm)].map((m) =>
    m[0]
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim().replace(/^`|`$/g, "")),
  );
}

function parseJson(block: string, where: string): unknown {
  try {
    return JSON.parse(block);
  } catch (err) {
    throw new Error(`${where}: example is not valid JSON: ${(err as Error).message}\n${block}`);
  }
}

const SERVER_KEYS = new Set(["type", "payload", "timestamp", "message_id"]);

function clientProblems(msg: unknown, expectedType?: string): string[] {
  if (!envelopeValidator.Check(msg)) {
    return envelopeValidator.Errors(msg).map((e) => `envelope${e.instancePath} ${e.message}`);
  }
  const problems: string[] = [];
  if (expectedType !== undefined && msg.type !== expectedType) {
    problems.push(`type is "${msg.type}", expected "${expectedType}"`);
  }
  if (!isClientType(msg.type)) return [...problems, `unknown client type "${msg.type}"`];
  const payload = msg.payload ?? {};
  const validator = clientValidators[msg.type as ClientType];
  if (!validator.Check(payload)) {
    problems.push(...validator.Errors(payload).map((e) => `payload${e.instancePath} ${e.message}`));
  }
  return problems;
}

function serverProblems(msg: unknown, expectedType?: string): string[] {
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return ["not an object"];
  const m = msg as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(m)) if (!SERVER_KEYS.has(k)) problems.push(`unexpected key "${k}"`);
  if (expectedType !== undefined && m.type !== expectedType) {
    problems.push(`type is "${String(m.type)}", expected "${expectedType}"`);
  }
  if (typeof m.timestamp !== "string" || Number.isNaN(Date.parse(m.timestamp))) {
    problems.push("timestamp must be an ISO 8601 string (the server always sends one)");
  }
  if (m.message_id !== undefined && typeof m.message_id !== "string") {
    problems.push("message_id is not a string");
  }
  if (typeof m.type !== "string" || !(SERVER_TYPES as string[]).includes(m.type)) {
    return [...problems, `unknown server type "${String(m.type)}"`];
  }
  const validator = serverValidators[m.type as ServerType];
  if (!validator.Check(m.payload)) {
    problems.push(
      ...validator.Errors(m.payload).map((e) => `payload${e.instancePath} ${e.message}`),
    );
  }
  return problems;
}

describe("docs/protocols/seed-001.md", () => {
  const client = messageSections(section(DOC, 2, "Client messages"));
  const server = messageSections(section(DOC, 2, "Server messages"));

  it("has exactly one section per client message type, in protocol order", () => {
    expect(client.map((s) => s.type)).toEqual(CLIENT_TYPES);
  });

  it("has exactly one section per server message type, in protocol order", () => {
    expect(server.map((s) => s.type)).toEqual(SERVER_TYPES);
  });

  it.each(CLIENT_TYPES)(
    "client `%s`: its JSON examples are messages the server accepts",
    (type) => {
      const blocks = client
        .filter((s) => s.type === type)
        .flatMap((s) => codeBlocks(s.body, "json"));
      expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
      for (const block of blocks) {
        expect(clientProblems(parseJson(block, type), type), `${type}:\n${block}`).toEqual([]);
      }
    },
  );

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    const blocks = server.filter((s) => s.type === type).flatMap((s) => codeBlocks(s.body, "json"));
    expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
    for (const block of blocks) {
      expect(serverProblems(parseJson(block, type), type), `${type}:\n${block}`).toEqual([]);
    }
  });

  it("walk-through messages are complete, valid messages in both directions", () => {
    const walk = section(DOC, 2, "Walk-through");
    let checked = 0;
    for (const block of codeBlocks(walk, "text")) {
      for (const line of block.split("\n")) {
        const l = line.trim();
        if (l === "" || l.startsWith("#")) continue;
        const arrow = l.slice(0, 1);
        expect(["→", "←"], `walk-through line must start with → or ←: ${l}`).toContain(arrow);
        const msg = parseJson(l.slice(1).trim(), "walk-through");
        expect(arrow === "→" ? clientProblems(msg) : serverProblems(msg), l).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("lists every error code once, with its recoverable flag", () => {
    const table = rows(section(section(DOC, 2, "Errors"), 3, "Codes"));
    expect(table.map((r) => r[0])).toEqual(ERROR_CODE_LIST);
    for (const [code, recoverable] of table) {
      const expected = ERROR_CODES[code as keyof typeof ERROR_CODES].recoverable ? "yes" : "no";
      expect(recoverable, `${code} recoverable`).toBe(expected);
    }
  });

  it("maps every reason the engine gives, and documents the mapping as the code has it", () => {
    const reasons = new Set<string>();
    const call =
      /(?:fail|reply|ProtocolError)\(\s*(?:[\w.]+,\s*)*"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*"([a-z_]+)"/g;
    const field =
      /code:\s*"[A-Z_]+",\s*msg:\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*reason:\s*"([a-z_]+)"/g;
    for (const path of [
      "src/engine/room.ts",
      "src/engine/room-runtime.ts",
      "src/engine/cluster/session-proxy.ts",
      "src/engine/cluster/cluster-directory.ts",
      "src/domain/names.ts",
    ]) {
      const text = readFileSync(root(path), "utf8");
      for (const m of text.matchAll(call)) reasons.add(m[1]!);
      for (const m of text.matchAll(field)) reasons.add(m[1]!);
    }
    // The scan must keep finding the engine's reasons; if this fails, fix the patterns above.
    for (const known of [
      "room_ended",
      "too_late",
      "name_taken",
      "invalid_name",
      "storage_unavailable",
      "owner_unreachable",
    ]) {
      expect(reasons, `scan found ${known}`).toContain(known);
    }
    for (const reason of reasons) {
      expect(Object.keys(ENGINE_REASONS), `engine reason ${reason} is mapped`).toContain(reason);
    }
    const table = rows(section(section(DOC, 2, "Errors"), 3, "Engine reasons"));
    expect(Object.fromEntries(table.map((r) => [r[0], r[1]]))).toEqual(ENGINE_REASONS);
    expect(table).toHaveLength(Object.keys(ENGINE_REASONS).length);
  });

  it("documents every close code", () => {
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      expect(DOC, `close code ${name}`).toContain(`| \`${code}\` | \`${name}\` |`);
    }
  });

  it("names the dialect's path", () => {
    expect(SEED001_PATH).toBe("/ws");
    expect(DOC).toContain("`ws://HOST/ws?user_id={userId}`");
  });
});

describe("seed 001 error mapping", () => {
  it("words unknown sessions as the seed does (§6.3) and capacity as §7.1 does", () => {
    expect(seedMessage("INVALID_SESSION", { sessionId: "quiz-999" })).toBe(
      "Session quiz-999 does not exist",
    );
    expect(
      fromDomainError(
        { code: "STATE", msg: "this room is full", reason: "room_full" },
        {
          sessionId: "s",
        },
      ),
    ).toMatchObject({ code: "SESSION_FULL", message: "Session at capacity" });
  });

  it("SERVICE_UNAVAILABLE: the server running the session cannot be reached; the client retries", () => {
    const refused = fromDomainError(
      {
        code: "UNAVAILABLE",
        msg: "the server running this session cannot be reached right now; please retry",
        reason: "owner_unreachable",
      },
      { sessionId: "s" },
    );
    expect(refused).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: "The server running this session cannot be reached right now; please retry",
      recoverable: true,
    });
  });

  it("REQUEST_REFUSED: a reason the table does not know falls back by the engine's code", () => {
    const refused = fromDomainError(
      { code: "STATE", msg: "this room cannot do that now", reason: "some_new_reason" },
      { sessionId: "s" },
    );
    expect(refused).toMatchObject({
      code: "REQUEST_REFUSED",
      message: "This session cannot do that now",
      recoverable: false,
    });
    expect(fromDomainError({ code: "FORBIDDEN", msg: "no" }, { sessionId: "s" }).code).toBe(
      "ACCESS_DENIED",
    );
  });
});
