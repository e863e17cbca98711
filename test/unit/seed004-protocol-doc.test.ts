import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/domain/errors.js";
import { ErrorBody } from "../../src/doors/rest/errors.js";
import {
  CLIENT_TYPES,
  CLOSE_CODES,
  type ClientType,
  clientValidators,
  isClientType,
  REST_ENDPOINTS,
  type RestEndpoint,
  SERVER_TYPES,
  type ServerType,
  serverValidators,
} from "../../src/doors/seed004/protocol.js";

/**
 * Keeps docs/protocols/seed-004.md and src/doors/seed004/protocol.ts from
 * drifting apart: every endpoint and message has its section, every example
 * is a body or frame the server accepts (client) or could send (server), and
 * every error code, reason and close code the door uses is documented.
 */

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DOC = readFileSync(root("docs/protocols/seed-004.md"), "utf8");
const errorBodyValidator = Compile(ErrorBody);

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

/** `### \`name\`` headings of a top-level section, with their bodies. */
function named(top: string): Array<{ name: string; body: string }> {
  return sections(top, 3).map((s) => {
    const m = /^`([^`]+)`$/.exec(s.heading);
    expect(m, `heading "### ${s.heading}" must be a single \`name\``).not.toBeNull();
    return { name: m![1]!, body: s.body };
  });
}

/** The fenced blocks of `text` whose info string is exactly `info` ("json", "json request", …). */
function codeBlocks(text: string, info: string): string[] {
  const out: string[] = [];
  const re = /^```([a-z ]*)\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(re)) if (m[1]!.trim() === info) out.push(m[2]!);
  return out;
}

/** The `code` in the first cell of each table row. */
function firstColumn(text: string): string[] {
  return [...text.matchAll(/^\| `([A-Za-z_0-9]+)` \|/gm)].map((m) => m[1]!);
}

function parseJson(block: string, where: string): unknown {
  try {
    return JSON.parse(block);
  } catch (err) {
    throw new Error(`${where}: example is not valid JSON: ${(err as Error).message}\n${block}`);
  }
}

function problems(
  validator: {
    Check(v: unknown): boolean;
    Errors(v: unknown): Iterable<{ instancePath: string; message: string }>;
  },
  value: unknown,
): string[] {
  if (validator.Check(value)) return [];
  return [...validator.Errors(value)].map((e) => `${e.instancePath || "(root)"} ${e.message}`);
}

function clientProblems(frame: unknown, expectedType?: string): string[] {
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !isClientType(type))
    return [`unknown client type ${String(type)}`];
  if (expectedType !== undefined && type !== expectedType) return [`type is ${type}`];
  return problems(clientValidators[type as ClientType], frame);
}

function serverProblems(frame: unknown, expectedType?: string): string[] {
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !(SERVER_TYPES as string[]).includes(type)) {
    return [`unknown server type ${String(type)}`];
  }
  if (expectedType !== undefined && type !== expectedType) return [`type is ${type}`];
  return problems(serverValidators[type as ServerType], frame);
}

const ENDPOINTS = Object.keys(REST_ENDPOINTS) as RestEndpoint[];

describe("docs/protocols/seed-004.md", () => {
  const rest = named(topSection("REST endpoints"));
  const client = named(topSection("Client messages"));
  const server = named(topSection("Server messages"));

  it("has exactly one section per REST endpoint, client message and server message", () => {
    expect(rest.map((s) => s.name)).toEqual(ENDPOINTS);
    expect(client.map((s) => s.name)).toEqual(CLIENT_TYPES);
    expect(server.map((s) => s.name)).toEqual(SERVER_TYPES);
  });

  it.each(ENDPOINTS)("%s: request, response and error examples match the schemas", (endpoint) => {
    const body = rest.find((s) => s.name === endpoint)?.body ?? "";
    const schemas = REST_ENDPOINTS[endpoint];
    const kinds = [
      ["json request", Compile(schemas.request)],
      ["json response", Compile(schemas.response)],
      ["json error", errorBodyValidator],
    ] as const;
    for (const [info, validator] of kinds) {
      const blocks = codeBlocks(body, info);
      expect(blocks.length, `at least one \`\`\`${info} example for ${endpoint}`).toBeGreaterThan(
        0,
      );
      for (const block of blocks) {
        expect(
          problems(validator, parseJson(block, endpoint)),
          `${endpoint} ${info}:\n${block}`,
        ).toEqual([]);
      }
    }
  });

  it.each(CLIENT_TYPES)(
    "client `%s`: its JSON examples are messages the server accepts",
    (type) => {
      const blocks = codeBlocks(client.find((s) => s.name === type)?.body ?? "", "json");
      expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
      for (const block of blocks) {
        expect(clientProblems(parseJson(block, type), type), block).toEqual([]);
      }
    },
  );

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    const blocks = codeBlocks(server.find((s) => s.name === type)?.body ?? "", "json");
    expect(blocks.length, `at least one json example for ${type}`).toBeGreaterThan(0);
    for (const block of blocks) {
      expect(serverProblems(parseJson(block, type), type), block).toEqual([]);
    }
  });

  it("ANSWER_RESULT documents both the correct and the wrong shape", () => {
    const blocks = codeBlocks(server.find((s) => s.name === "ANSWER_RESULT")?.body ?? "", "json");
    const shapes = blocks.map(
      (b) =>
        (parseJson(b, "ANSWER_RESULT") as { payload: { is_correct: boolean } }).payload.is_correct,
    );
    expect(new Set(shapes)).toEqual(new Set([true, false]));
  });

  it("walk-through frames are valid in both directions", () => {
    let checked = 0;
    for (const block of codeBlocks(topSection("Walk-through"), "text")) {
      for (const line of block.split("\n")) {
        const t = line.trim();
        if (t === "" || t.startsWith("#")) continue;
        const arrow = t.slice(0, 1);
        expect(["→", "←"], `walk-through line must start with → or ←: ${t}`).toContain(arrow);
        const frame = parseJson(t.slice(1).trim(), "walk-through");
        expect(arrow === "→" ? clientProblems(frame) : serverProblems(frame), t).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("documents every error code, and every reason the door and the engine send through it", () => {
    const documented = firstColumn(topSection("Errors"));
    const repeated = documented.filter((r, i) => documented.indexOf(r) !== i);
    expect(repeated, "each code and reason is listed once").toEqual([]);
    for (const code of Object.keys(ERROR_CODES)) expect(documented, code).toContain(code);

    // Reasons the door's own modules use: sendError(conn, "CODE", msg, "reason"),
    // RestError("CODE", msg, "reason"), invalid(what, issues, "reason"), { reason: "x" }.
    const dir = root("src/doors/seed004");
    const reasons = new Set<string>();
    const patterns = [
      /(?:sendError|RestError)\(\s*(?:[\w.]+,\s*)?"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|[\w.]+),\s*"([a-z_]+)"/g,
      /reason: "([a-z_]+)"/g,
      /invalid\([\s\S]*?\],\s*"([a-z_]+)"\s*,?\s*\)/g,
    ];
    for (const file of readdirSync(dir)) {
      const text = readFileSync(`${dir}/${file}`, "utf8");
      for (const re of patterns) for (const m of text.matchAll(re)) reasons.add(m[1]!);
    }
    for (const known of [
      "bad_json",
      "frame_too_large",
      "bank_short",
      "token_required",
      "not_joined",
    ]) {
      expect(reasons, `scan found ${known}`).toContain(known);
    }
    // What the room answers to this door's commands (join, start, answer) and the store's failure.
    const engine = [
      "room_full",
      "banned",
      "room_locked",
      "room_ended",
      "invalid_name",
      "name_taken",
      "is_host",
      "not_host",
      "already_started",
      "not_joined",
      "kicked",
      "no_question",
      "not_open",
      "too_late",
      "bad_answer",
      "already_answered",
      "answer_pending",
      "storage_unavailable",
    ];
    for (const reason of [...reasons, ...engine]) {
      expect(documented, `reason ${reason} has its own row`).toContain(reason);
    }
  });

  it("documents every close code", () => {
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      expect(DOC, `close code ${name}`).toContain(`| \`${code}\` | \`${name}\` |`);
    }
  });

  it("names the WebSocket path and how to turn the development login off", () => {
    expect(DOC).toContain("`/ws/contests/{contestId}?token={jwt}`");
    expect(DOC).toContain("LOGIN_ENABLED=false");
    for (const status of [401, 403, 404, 410])
      expect(DOC).toMatch(new RegExp(`^\\| ${status} \\|`, "m"));
  });
});
