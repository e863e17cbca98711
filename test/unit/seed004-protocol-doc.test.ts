import { readdirSync } from "node:fs";
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
import {
  checkCloseCodes,
  checkJsonExamples,
  checkListedOnce,
  checkNamedExamples,
  checkScanFound,
  checkWalkThrough,
  codeBlocks,
  firstColumn,
  namedSections,
  parseJson,
  readRepoFile,
  repoPath,
  scanSources,
  section,
  validatorProblems,
} from "../support/doc-check.js";

/**
 * Keeps docs/protocols/seed-004.md and src/doors/seed004/protocol.ts from
 * drifting apart: every endpoint and message has its section, every example
 * is a body or frame the server accepts (client) or could send (server), and
 * every error code, reason and close code the door uses is documented.
 */

const DOC = readRepoFile("docs/protocols/seed-004.md");
const errorBodyValidator = Compile(ErrorBody);

/** `### \`name\`` headings of a top-level section, with their bodies. */
const named = (top: string) => namedSections(top, /^`([^`]+)`$/, "name");

function clientProblems(frame: unknown, expectedType?: string): string[] {
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !isClientType(type))
    return [`unknown client type ${String(type)}`];
  if (expectedType !== undefined && type !== expectedType) return [`type is ${type}`];
  return validatorProblems(clientValidators[type as ClientType], frame);
}

function serverProblems(frame: unknown, expectedType?: string): string[] {
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !(SERVER_TYPES as string[]).includes(type)) {
    return [`unknown server type ${String(type)}`];
  }
  if (expectedType !== undefined && type !== expectedType) return [`type is ${type}`];
  return validatorProblems(serverValidators[type as ServerType], frame);
}

const ENDPOINTS = Object.keys(REST_ENDPOINTS) as RestEndpoint[];

describe("docs/protocols/seed-004.md", () => {
  const rest = named(section(DOC, 2, "REST endpoints"));
  const client = named(section(DOC, 2, "Client messages"));
  const server = named(section(DOC, 2, "Server messages"));

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
      const n = checkJsonExamples(
        body,
        `${endpoint} ${info}`,
        (v) => validatorProblems(validator, v),
        info,
      );
      expect(n, `at least one \`\`\`${info} example for ${endpoint}`).toBeGreaterThan(0);
    }
  });

  it.each(CLIENT_TYPES)(
    "client `%s`: its JSON examples are messages the server accepts",
    (type) => {
      checkNamedExamples(client, type, (frame) => clientProblems(frame, type));
    },
  );

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    checkNamedExamples(server, type, (frame) => serverProblems(frame, type));
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
    checkWalkThrough(section(DOC, 2, "Walk-through"), clientProblems, serverProblems);
  });

  it("documents every error code, and every reason the door and the engine send through it", () => {
    const documented = firstColumn(section(DOC, 2, "Errors"));
    checkListedOnce(documented);
    for (const code of Object.keys(ERROR_CODES)) expect(documented, code).toContain(code);

    // Reasons the door's own modules use: errorOut("CODE", msg, "reason"), new ProtocolError(…),
    // RestError("CODE", msg, "reason"), invalid(what, issues, "reason"), { reason: "x" }.
    const dir = "src/doors/seed004";
    const reasons = scanSources(
      readdirSync(repoPath(dir)).map((file) => `${dir}/${file}`),
      [
        /(?:sendError|RestError|ProtocolError|errorOut|errorFrame)\(\s*(?:[\w.]+,\s*)?"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|[\w.]+),\s*"([a-z_]+)"/g,
        /reason: "([a-z_]+)"/g,
        /invalid\([\s\S]*?\],\s*"([a-z_]+)"\s*,?\s*\)/g,
      ],
    );
    checkScanFound(reasons, [
      "bad_json",
      "frame_too_large",
      "bank_short",
      "token_required",
      "not_joined",
    ]);
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
    checkCloseCodes(DOC, CLOSE_CODES);
  });

  it("names the WebSocket path and how to turn the development login off", () => {
    expect(DOC).toContain("`/ws/contests/{contestId}?token={jwt}`");
    expect(DOC).toContain("LOGIN_ENABLED=false");
    for (const status of [401, 403, 404, 410])
      expect(DOC).toMatch(new RegExp(`^\\| ${status} \\|`, "m"));
  });
});
