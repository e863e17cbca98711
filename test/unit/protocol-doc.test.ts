import { existsSync } from "node:fs";
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
import {
  checkCloseCodes,
  checkListedOnce,
  checkNamedExamples,
  checkScanFound,
  checkWalkThrough,
  firstColumn,
  namedSections,
  readRepoFile,
  repoPath,
  scanSources,
  section,
  sections,
  validatorProblems,
} from "../support/doc-check.js";

/**
 * Keeps docs/protocol.md and src/doors/canonical/protocol.ts from drifting apart: every message
 * type has its section, every example is a frame the server would accept (client) or could send
 * (server), and every error code, engine reason and close code is documented.
 */

const DOC = readRepoFile("docs/protocol.md");

const messageSections = (top: string) => namedSections(top, /^`([a-z_]+)`$/, "type");

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
  return [...problems, ...validatorProblems(validator, data, "data")];
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
  return [...problems, ...validatorProblems(validator, f.data, "data")];
}

describe("docs/protocol.md", () => {
  const client = messageSections(section(DOC, 2, "Client messages"));
  const server = messageSections(section(DOC, 2, "Server messages"));

  it("has exactly one section per client message type, in protocol order", () => {
    expect(client.map((s) => s.name)).toEqual(CLIENT_TYPES);
  });

  it("has exactly one section per server message type, in protocol order", () => {
    expect(server.map((s) => s.name)).toEqual(SERVER_TYPES);
  });

  it.each(CLIENT_TYPES)("client `%s`: its JSON examples are frames the server accepts", (type) => {
    checkNamedExamples(client, type, (frame) => clientFrameProblems(frame, type));
  });

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    checkNamedExamples(server, type, (frame) => serverFrameProblems(frame, type));
  });

  it("walk-through frames are complete, valid frames in both directions", () => {
    const walk = sections(DOC, 2).find((s) => s.heading.startsWith("Walk-through"));
    expect(walk, "a ## Walk-through section").toBeDefined();
    checkWalkThrough(walk!.body, clientFrameProblems, serverFrameProblems);
  });

  it("documents every error code under ## Errors", () => {
    const documented = firstColumn(section(DOC, 2, "Errors"));
    for (const code of Object.keys(ERROR_CODES)) {
      expect(documented, `error code ${code} has its own row`).toContain(code);
    }
  });

  it("documents every reason the engine and the gateway use under ## Errors", () => {
    const errors = section(DOC, 2, "Errors");
    const sources = [
      "src/engine/room.ts",
      "src/engine/room-runtime.ts",
      "src/domain/names.ts",
      "src/services/session-service.ts",
      "src/doors/canonical/canonical-door.ts",
    ];
    // fail("CODE", "msg", "reason"), reply(…), new ProtocolError(…), strike(conn, id, …), and
    // error objects { code: "CODE", msg: "…", reason: "x" }.
    const call =
      /(?:fail|reply|ProtocolError|strike|sendError|errorFrame)\(\s*(?:[\w.]+,\s*)*"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*(?:[\w.?:"\s]+\?\s*)?"([a-z_]+)"/g;
    const field =
      /code:\s*"[A-Z_]+",\s*msg:\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*reason:\s*"([a-z_]+)"/g;
    // A door not written yet has nothing to document.
    const reasons = scanSources(
      sources.filter((path) => existsSync(repoPath(path))),
      [call, field],
    );
    // The scan must keep finding the engine's reasons; if this fails, fix the patterns above.
    checkScanFound(reasons, [
      "room_ended",
      "too_late",
      "not_host",
      "invalid_name",
      "storage_unavailable",
    ]);
    const documented = firstColumn(errors);
    checkListedOnce(documented);
    for (const reason of reasons) {
      expect(documented, `reason ${reason} has its own row`).toContain(reason);
    }
  });

  it("documents every close code", () => {
    checkCloseCodes(DOC, CLOSE_CODES);
  });

  it("names the canonical path", () => {
    expect(DOC).toContain("`/ws/v1`");
  });
});
