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
import {
  checkCloseCodes,
  checkNamedExamples,
  checkScanFound,
  checkWalkThrough,
  namedSections,
  readRepoFile,
  scanSources,
  section,
  tableRows,
  validatorProblems,
} from "../support/doc-check.js";

/**
 * Keeps docs/protocols/seed-001.md and src/doors/seed001/protocol.ts from drifting apart: every
 * message type has its section, every example is a message the server would accept (client) or
 * could send (server), and every error code, engine reason and close code is documented.
 */

const DOC = readRepoFile("docs/protocols/seed-001.md");

const messageSections = (top: string) => namedSections(top, /^`([A-Z_]+)`$/, "TYPE");

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
  return [...problems, ...validatorProblems(validator, payload, "payload")];
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
  return [...problems, ...validatorProblems(validator, m.payload, "payload")];
}

describe("docs/protocols/seed-001.md", () => {
  const client = messageSections(section(DOC, 2, "Client messages"));
  const server = messageSections(section(DOC, 2, "Server messages"));

  it("has exactly one section per client message type, in protocol order", () => {
    expect(client.map((s) => s.name)).toEqual(CLIENT_TYPES);
  });

  it("has exactly one section per server message type, in protocol order", () => {
    expect(server.map((s) => s.name)).toEqual(SERVER_TYPES);
  });

  it.each(CLIENT_TYPES)(
    "client `%s`: its JSON examples are messages the server accepts",
    (type) => {
      checkNamedExamples(client, type, (msg) => clientProblems(msg, type));
    },
  );

  it.each(SERVER_TYPES)("server `%s`: its JSON examples match the schema", (type) => {
    checkNamedExamples(server, type, (msg) => serverProblems(msg, type));
  });

  it("walk-through messages are complete, valid messages in both directions", () => {
    checkWalkThrough(section(DOC, 2, "Walk-through"), clientProblems, serverProblems);
  });

  it("lists every error code once, with its recoverable flag", () => {
    const table = tableRows(section(section(DOC, 2, "Errors"), 3, "Codes"));
    expect(table.map((r) => r[0])).toEqual(ERROR_CODE_LIST);
    for (const [code, recoverable] of table) {
      const expected = ERROR_CODES[code as keyof typeof ERROR_CODES].recoverable ? "yes" : "no";
      expect(recoverable, `${code} recoverable`).toBe(expected);
    }
  });

  it("maps every reason the engine gives, and documents the mapping as the code has it", () => {
    const call =
      /(?:fail|reply|ProtocolError)\(\s*(?:[\w.]+,\s*)*"[A-Z_]+",\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*"([a-z_]+)"/g;
    const field =
      /code:\s*"[A-Z_]+",\s*msg:\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`),\s*reason:\s*"([a-z_]+)"/g;
    const reasons = scanSources(
      [
        "src/engine/room.ts",
        "src/engine/room-runtime.ts",
        "src/engine/cluster/session-proxy.ts",
        "src/engine/cluster/cluster-directory.ts",
        "src/domain/names.ts",
      ],
      [call, field],
    );
    // The scan must keep finding the engine's reasons; if this fails, fix the patterns above.
    checkScanFound(reasons, [
      "room_ended",
      "too_late",
      "name_taken",
      "invalid_name",
      "storage_unavailable",
      "owner_unreachable",
    ]);
    for (const reason of reasons) {
      expect(Object.keys(ENGINE_REASONS), `engine reason ${reason} is mapped`).toContain(reason);
    }
    const table = tableRows(section(section(DOC, 2, "Errors"), 3, "Engine reasons"));
    expect(Object.fromEntries(table.map((r) => [r[0], r[1]]))).toEqual(ENGINE_REASONS);
    expect(table).toHaveLength(Object.keys(ENGINE_REASONS).length);
  });

  it("documents every close code", () => {
    checkCloseCodes(DOC, CLOSE_CODES);
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
