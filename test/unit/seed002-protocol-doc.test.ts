/**
 * Keeps docs/protocols/seed-002.md and the seed 002 door's protocol module from drifting apart:
 * the stream and every REST endpoint have their section, every JSON example passes the schema it
 * documents (request bodies pass the door's own decoder), and every upgrade refusal, close code,
 * error code, reason and limit is documented.
 */
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../src/domain/errors.js";
// The door under test: its folder is named on these two lines and in DOOR below, nowhere else.
import * as door from "../../src/doors/leaderboard-stream/protocol.js";
import { decodeCreateBody } from "../../src/doors/leaderboard-stream/quiz-input.js";
import { ErrorBody } from "../../src/doors/rest/errors.js";
import {
  checkJsonExamples,
  codeBlocks,
  describeProtocolDoc,
  type NamedSection,
  only,
  scanReasons,
  sections,
  validatorProblems,
} from "../support/doc-check.js";

const DOOR = "src/doors/leaderboard-stream";

/** The stream's section: its messages, upgrade refusals, close codes and keep-alive. */
const STREAM = ["Stream", "`GET /quizzes/{quizId}/ws`"];

/** The level-4 sections whose JSON examples the tests check against a schema. */
const CHECKED_SECTIONS = /^(Messages|Request|Response \d{3}|Errors)$/;

const schemaProblems = (schema: TSchema, value: unknown) =>
  validatorProblems(Compile(schema), value);

const endpoints = Object.values(door.ENDPOINTS) as door.Endpoint[];
const nameOf = (e: door.Endpoint) => `${e.method} ${e.path}`;
const endpointNamed = (name: string) => endpoints.find((e) => nameOf(e) === name)!;

/** An endpoint's `####` sections. */
const parts = (entry: NamedSection) => sections(entry.body, 4);

describeProtocolDoc(
  {
    path: "docs/protocols/seed-002.md",
    catalogues: [
      {
        section: "REST",
        entry: "REST endpoint",
        heading: /^`([^`]+)`$/,
        names: endpoints.map(nameOf),
        each: {
          "its request examples pass the door's own validation": (entry) => {
            const endpoint = endpointNamed(entry.name);
            const requests = parts(entry).filter((s) => s.heading === "Request");
            if (endpoint.body === null) {
              expect(requests).toEqual([]);
              return;
            }
            const schema = endpoint.body;
            const n = checkJsonExamples(
              only(requests, "#### Request"),
              `${entry.name} request`,
              (v) => {
                const problems = schemaProblems(schema, v);
                if (endpoint === door.ENDPOINTS.createQuiz) {
                  const decoded = decodeCreateBody(v, { now: 0, newId: () => "doc" });
                  if (decoded.kind === "invalid")
                    problems.push(...decoded.issues.map((i) => i.msg));
                }
                return problems;
              },
            );
            expect(n).toBeGreaterThan(0);
          },

          "documents each success status with examples that match its reply schema": (entry) => {
            const endpoint = endpointNamed(entry.name);
            const responses = parts(entry).filter((s) => s.heading.startsWith("Response "));
            const status = (s: { heading: string }) => Number(s.heading.slice("Response ".length));
            expect(responses.map(status).sort()).toEqual(
              Object.keys(endpoint.replies).map(Number).sort(),
            );
            for (const r of responses) {
              const schema = endpoint.replies[status(r)]!;
              const n = checkJsonExamples(r.body, `${entry.name} ${status(r)}`, (v) =>
                schemaProblems(schema, v),
              );
              expect(n, `${entry.name} ${status(r)} has an example`).toBeGreaterThan(0);
            }
          },

          "lists exactly its error codes with their statuses; error examples are error bodies": (
            entry,
          ) => {
            const endpoint = endpointNamed(entry.name);
            const errors = only(
              parts(entry).filter((s) => s.heading === "Errors"),
              "#### Errors",
            );
            const rows = [...errors.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)];
            for (const [, status, code] of rows) {
              expect(Number(status), `${code}'s status`).toBe(
                ERROR_CODES[code as ErrorCode].status,
              );
            }
            const codes = new Set(rows.map((m) => m[2]));
            expect([...codes].sort()).toEqual([...new Set(endpoint.errors)].sort());
            checkJsonExamples(errors, `${entry.name} error`, (v) => {
              const problems = schemaProblems(ErrorBody, v);
              const code = (v as { code?: string }).code;
              if (!endpoint.errors.includes(code as ErrorCode)) {
                problems.push(`code ${code} not listed`);
              }
              return problems;
            });
          },
        },
      },
    ],
    closeCodes: { at: [...STREAM, "Close codes"], codes: door.CLOSE_CODES },
  },
  (doc) => {
    it("the stream's message examples (snapshot and update) match the message schema", () => {
      const n = checkJsonExamples(doc.at(...STREAM, "Messages"), "message", (v) =>
        validatorProblems(door.leaderboardMessageValidator, v),
      );
      expect(n).toBeGreaterThanOrEqual(2);
    });

    it("lists exactly the upgrade refusals the stream sends, with status and exact text", () => {
      const rows = [
        ...doc.at(...STREAM, "Upgrade errors").matchAll(/^\| (\d{3}) \| `([^`]+)` \|$/gm),
      ].map((m) => `${m[1]} ${m[2]}`);
      const expected = Object.values(door.STREAM_ERRORS).map(
        (e) => `${e.status} WebSocket upgrade failed: ${e.message}`,
      );
      expect([...rows].sort()).toEqual([...expected].sort());
      // The seed's three, exactly as it words them.
      expect(rows.slice(0, 3)).toEqual([
        "400 WebSocket upgrade failed: missing participant_id parameter",
        "404 WebSocket upgrade failed: quiz not found",
        "403 WebSocket upgrade failed: participant not in quiz",
      ]);
    });

    it("every reason the door's routes give is in an Errors table", () => {
      const tables = sections(doc.at("REST"), 4)
        .filter((s) => s.heading === "Errors")
        .map((s) => s.body)
        .join("\n");
      const reasons = [
        ...scanReasons({
          sources: [`${DOOR}/routes.ts`],
          known: ["no_session", "room_ended", "no_player"],
        }),
        ...scanReasons({
          sources: [`${DOOR}/quiz-input.ts`],
          patterns: [/"(bad_request|invalid_quiz)"\s*\)/g],
          known: ["bad_request", "invalid_quiz"],
        }),
      ];
      for (const reason of reasons) expect(tables, `reason ${reason}`).toContain(`\`${reason}\``);
    });

    it("states the door's limits as the code has them", () => {
      const limits = doc.at("Overview", "Limits");
      expect(limits).toContain(`| entries per message | ${door.LEADERBOARD_CAP} |`);
      expect(limits).toContain(
        `| coalescing window of updates (ms) | ${door.UPDATE_COALESCE_MS} |`,
      );
      expect(limits).toContain(
        `| concurrent streams per participant | ${door.STREAMS_PER_PARTICIPANT} |`,
      );
      expect(limits).toContain(`| client frame size tolerated (bytes) | ${door.MAX_FRAME_BYTES} |`);
      expect(limits).toContain(`| quiz lifetime (hours) | ${door.QUIZ_TTL_MS / 3_600_000} |`);
    });

    it("every JSON example in the document sits in a section whose examples are checked", () => {
      const checked = [doc.at("Stream"), doc.at("REST")]
        .flatMap((t) => sections(t, 4))
        .filter((s) => CHECKED_SECTIONS.test(s.heading))
        .flatMap((s) => codeBlocks(s.body, "json"));
      expect(checked.length).toBe(codeBlocks(doc.text, "json").length);
    });
  },
);
