/**
 * Keeps docs/protocols/seed-004.md and the seed 004 door's protocol module from drifting apart:
 * every endpoint and message has its section, every example is a body or frame the server
 * accepts (client) or could send (server), and every error code, reason and close code the door
 * uses is documented.
 */
import { readdirSync } from "node:fs";
import { Compile } from "typebox/compile";
import { expect, it } from "vitest";
import { ERROR_CODES } from "../../src/domain/errors.js";
// The door under test: its folder is named on this line and in DOOR below, nowhere else.
import * as door from "../../src/doors/contest/protocol.js";
import { ErrorBody } from "../../src/doors/rest/errors.js";
import {
  codeBlocks,
  describeProtocolDoc,
  examplesOf,
  parseJson,
  REASON_PATTERNS,
  repoPath,
  validatorProblems,
} from "../support/doc-check.js";

const DOOR = "src/doors/contest";

const errorBody = Compile(ErrorBody);
const endpoint = (name: string) => door.REST_ENDPOINTS[name as door.RestEndpoint];

describeProtocolDoc(
  {
    path: "docs/protocols/seed-004.md",
    catalogues: [
      {
        section: "REST endpoints",
        entry: "REST endpoint",
        heading: /^`([^`]+)`$/,
        names: Object.keys(door.REST_ENDPOINTS),
        each: {
          "its request, response and error examples match the schemas": examplesOf({
            "json request": (v, name) => validatorProblems(Compile(endpoint(name).request), v),
            "json response": (v, name) => validatorProblems(Compile(endpoint(name).response), v),
            "json error": (v) => validatorProblems(errorBody, v),
          }),
        },
      },
    ],
    messages: {
      heading: /^`([^`]+)`$/,
      // Seed 004's messages carry their fields beside `type`: a type's schema checks it whole.
      client: { types: door.CLIENT_TYPES, validators: door.clientValidators },
      server: { types: door.SERVER_TYPES, validators: door.serverValidators },
    },
    closeCodes: { at: ["Close codes"], codes: door.CLOSE_CODES },
    errors: {
      at: ["Errors"],
      codes: Object.keys(ERROR_CODES),
      reasons: {
        sources: readdirSync(repoPath(DOOR)).map((file) => `${DOOR}/${file}`),
        // Besides the usual calls: `{ reason: "x" }` and invalid(what, issues, "reason").
        patterns: [
          ...REASON_PATTERNS,
          /reason: "([a-z_]+)"/g,
          /invalid\([\s\S]*?\],\s*"([a-z_]+)"\s*,?\s*\)/g,
          // The decoder's fail(message, "reason").
          /fail\(\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|'[^']*'),\s*"([a-z_]+)",?\s*\)/g,
        ],
        known: ["bad_json", "frame_too_large", "bank_short", "token_required", "not_joined"],
        // What the room answers to this door's commands (join, start, answer) and the store's failure.
        also: [
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
        ],
      },
    },
    mentions: ["`/ws/contests/{contestId}?token={jwt}`", "LOGIN_ENABLED=false"],
  },
  (doc) => {
    it("ANSWER_RESULT documents both the correct and the wrong shape", () => {
      const section = doc.at("Server messages", "`ANSWER_RESULT`");
      const shapes = codeBlocks(section, "json").map(
        (b) =>
          (parseJson(b, "ANSWER_RESULT") as { payload: { is_correct: boolean } }).payload
            .is_correct,
      );
      expect(new Set(shapes)).toEqual(new Set([true, false]));
    });

    it("has a row for each status a refused WebSocket upgrade answers with", () => {
      for (const status of [401, 403, 404, 410]) {
        expect(doc.at("Overview", "Connecting")).toMatch(new RegExp(`^\\| ${status} \\|`, "m"));
      }
    });
  },
);
