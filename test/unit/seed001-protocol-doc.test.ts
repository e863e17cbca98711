/**
 * Keeps docs/protocols/seed-001.md and the seed 001 door's protocol module from drifting apart:
 * every message type has its section, every example is a message the server would accept
 * (client) or could send (server), and every error code, engine reason and close code is
 * documented.
 */
import { describe, expect, it } from "vitest";
// The door under test: its folder is named on these three lines, nowhere else.
import * as doorErrors from "../../src/doors/vocabulary/errors.js";
import * as door from "../../src/doors/vocabulary/protocol.js";
import { DEFAULT_LIMITS } from "../../src/doors/vocabulary/vocabulary-door.js";
import {
  describeProtocolDoc,
  ROOM_REASON_SOURCES,
  scanReasons,
  stringIfPresent,
  tableRows,
} from "../support/doc-check.js";

describeProtocolDoc(
  {
    path: "docs/protocols/seed-001.md",
    messages: {
      heading: /^`([A-Z_]+)`$/,
      client: {
        types: door.CLIENT_TYPES,
        envelope: door.envelopeValidator,
        validators: door.clientValidators,
        body: "payload",
        absentBody: {},
      },
      server: {
        types: door.SERVER_TYPES,
        validators: door.serverValidators,
        body: "payload",
        keys: ["type", "payload", "timestamp", "message_id"],
        rules: [
          (m) =>
            typeof m.timestamp === "string" && !Number.isNaN(Date.parse(m.timestamp))
              ? undefined
              : "timestamp must be an ISO 8601 string (the server always sends one)",
          stringIfPresent("message_id"),
        ],
      },
    },
    closeCodes: { at: ["Overview", "Close codes"], codes: door.CLOSE_CODES },
    mentions: [`\`ws://HOST${door.SEED001_PATH}?user_id={userId}\``],
  },
  (doc) => {
    it("keeps the seed's path, /ws", () => {
      expect(door.SEED001_PATH).toBe("/ws");
    });

    it("states the big-session thresholds and intervals the door uses", () => {
      const seconds = (ms: number) => (ms === 1_000 ? "once a second" : `once per ${ms} ms`);
      const count = (n: number) => n.toLocaleString("en-US").replace(",", " ");
      const big = doc.at("Overview", "Big sessions");
      const row = doc
        .at("Overview", "Limits")
        .split("\n")
        .find((line) => line.startsWith("| Big sessions |"))
        ?.split("|")
        .map((c) => c.trim());
      const {
        announceAbove,
        announceIntervalMs,
        boardsAbove,
        boardMsPerParticipant,
        boardIntervalMaxMs,
      } = DEFAULT_LIMITS;
      // The participants from whom boards wait the whole cap.
      const capped = boardIntervalMaxMs / boardMsPerParticipant;
      const boards = `at most once per ${boardMsPerParticipant} ms per participant (${seconds(boardIntervalMaxMs)} from ${count(capped)} on)`;
      expect(row?.[2]).toBe(
        `Above ${count(announceAbove)} participants, \`USER_JOINED\` and \`USER_LEFT\` at most ${seconds(announceIntervalMs)} each; above ${count(boardsAbove)}, self-paced boards to everyone ${boards}, but at once to a learner whose answer they first show ([Big sessions](#big-sessions))`,
      );
      expect(big).toContain(`grouped above ${count(announceAbove)} participants`);
      expect(big).toContain(
        `Boards to everyone wait ${boardMsPerParticipant} ms per participant above ${count(boardsAbove)} participants, at most ${seconds(boardIntervalMaxMs)}.`,
      );
      expect(big).toContain(`${seconds(boardIntervalMaxMs)} from ${count(capped)} on`);
    });

    it("lists every error code once, with its recoverable flag", () => {
      const table = tableRows(doc.at("Errors", "Codes"));
      expect(table.map((r) => r[0])).toEqual(door.ERROR_CODE_LIST);
      for (const [code, recoverable] of table) {
        const expected = door.ERROR_CODES[code as keyof typeof door.ERROR_CODES].recoverable;
        expect(recoverable, `${code} recoverable`).toBe(expected ? "yes" : "no");
      }
    });

    it("maps every reason the engine gives, and documents the mapping as the code has it", () => {
      const reasons = scanReasons({
        sources: [
          ...ROOM_REASON_SOURCES,
          "src/engine/cluster/session-proxy.ts",
          "src/engine/cluster/cluster-directory.ts",
        ],
        known: [
          "room_ended",
          "too_late",
          "name_taken",
          "invalid_name",
          "storage_unavailable",
          "owner_unreachable",
        ],
      });
      const mapped = Object.keys(doorErrors.ENGINE_REASONS);
      for (const reason of reasons)
        expect(mapped, `engine reason ${reason} is mapped`).toContain(reason);
      const table = tableRows(doc.at("Errors", "Engine reasons"));
      expect(Object.fromEntries(table.map((r) => [r[0], r[1]]))).toEqual(doorErrors.ENGINE_REASONS);
      expect(table).toHaveLength(mapped.length);
    });
  },
);

describe("seed 001 error mapping", () => {
  const { fromDomainError, seedMessage } = doorErrors;

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
