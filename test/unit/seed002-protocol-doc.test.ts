import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../src/domain/errors.js";
import { ErrorBody } from "../../src/doors/rest/errors.js";
import {
  CLOSE_CODES,
  ENDPOINTS,
  type Endpoint,
  LEADERBOARD_CAP,
  leaderboardMessageValidator,
  MAX_FRAME_BYTES,
  QUIZ_TTL_MS,
  STREAM_ERRORS,
  STREAMS_PER_PARTICIPANT,
  UPDATE_COALESCE_MS,
} from "../../src/doors/seed002/protocol.js";
import { decodeCreateBody } from "../../src/doors/seed002/quiz-input.js";
import {
  checkJsonExamples,
  checkScanFound,
  codeBlocks,
  only,
  readRepoFile,
  scanSources,
  section,
  sections,
  validatorProblems,
} from "../support/doc-check.js";

/**
 * Keeps docs/protocols/seed-002.md and src/doors/seed002/protocol.ts from drifting apart: the
 * stream and every REST endpoint have their section, every JSON example passes the schema it
 * documents (request bodies pass the door's own decoder), and every upgrade refusal, close code,
 * error code, reason and limit is documented.
 */

const DOC = readRepoFile("docs/protocols/seed-002.md");

const top = (name: string) => section(DOC, 2, name);

function schemaProblems(schema: TSchema, value: unknown): string[] {
  return validatorProblems(Compile(schema), value);
}

/** The level-4 sections whose JSON examples the tests check against a schema. */
const CHECKED_SECTIONS = /^(Messages|Request|Response \d{3}|Errors)$/;

const endpoints = Object.values(ENDPOINTS) as Endpoint[];
const headingOf = (e: Endpoint) => `\`${e.method} ${e.path}\``;

describe("docs/protocols/seed-002.md: the stream", () => {
  const stream = only(
    sections(top("Stream"), 3).filter((s) => s.heading === "`GET /quizzes/{quizId}/ws`"),
    "stream section",
  );

  it("its message examples (snapshot and update) match the message schema", () => {
    const n = checkJsonExamples(section(stream, 4, "Messages"), "message", (v) =>
      validatorProblems(leaderboardMessageValidator, v),
    );
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it("lists exactly the upgrade refusals the door sends, with status and exact text", () => {
    const rows = [
      ...section(stream, 4, "Upgrade errors").matchAll(/^\| (\d{3}) \| `([^`]+)` \|$/gm),
    ].map((m) => `${m[1]} ${m[2]}`);
    const expected = Object.values(STREAM_ERRORS).map(
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

  it("documents every close code and no other", () => {
    const rows = [
      ...section(stream, 4, "Close codes").matchAll(/^\| `(\d{4})` \| `([A-Za-z]+)` \|/gm),
    ].map((m) => `${m[1]} ${m[2]}`);
    const expected = Object.entries(CLOSE_CODES).map(([name, code]) => `${code} ${name}`);
    expect([...rows].sort()).toEqual([...expected].sort());
  });
});

describe("docs/protocols/seed-002.md: REST", () => {
  const rest = sections(top("REST"), 3);

  it("has one section per endpoint, in protocol order", () => {
    expect(rest.map((s) => s.heading)).toEqual(endpoints.map(headingOf));
  });

  describe.each(endpoints.map((e) => [headingOf(e), e] as const))("%s", (heading, endpoint) => {
    const body = () =>
      only(
        rest.filter((s) => s.heading === heading),
        heading,
      );

    it("its request examples pass the door's own validation", () => {
      const requests = sections(body(), 4).filter((s) => s.heading === "Request");
      if (endpoint.body === null) {
        expect(requests).toEqual([]);
        return;
      }
      const schema = endpoint.body;
      const n = checkJsonExamples(only(requests, "#### Request"), `${heading} request`, (v) => {
        const problems = schemaProblems(schema, v);
        if (endpoint === ENDPOINTS.createQuiz) {
          const decoded = decodeCreateBody(v, { now: 0, newId: () => "doc" });
          if (decoded.kind === "invalid") problems.push(...decoded.issues.map((i) => i.msg));
        }
        return problems;
      });
      expect(n).toBeGreaterThan(0);
    });

    it("documents each success status with examples that match its reply schema", () => {
      const responses = sections(body(), 4).filter((s) => s.heading.startsWith("Response "));
      const statuses = responses.map((s) => Number(s.heading.slice("Response ".length)));
      expect([...statuses].sort()).toEqual(Object.keys(endpoint.replies).map(Number).sort());
      for (const r of responses) {
        const status = Number(r.heading.slice("Response ".length));
        const schema = endpoint.replies[status]!;
        const n = checkJsonExamples(r.body, `${heading} ${status}`, (v) =>
          schemaProblems(schema, v),
        );
        expect(n, `${heading} ${status} has an example`).toBeGreaterThan(0);
      }
    });

    it("lists exactly its error codes with their statuses; error examples are error bodies", () => {
      const errors = section(body(), 4, "Errors");
      const rows = [...errors.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)];
      for (const [, status, code] of rows) {
        expect(Number(status), `${code}'s status`).toBe(ERROR_CODES[code as ErrorCode].status);
      }
      const codes = new Set(rows.map((m) => m[2]));
      expect([...codes].sort()).toEqual([...new Set(endpoint.errors)].sort());
      checkJsonExamples(errors, `${heading} error`, (v) => {
        const problems = schemaProblems(ErrorBody, v);
        const code = (v as { code?: string }).code;
        if (!endpoint.errors.includes(code as ErrorCode)) problems.push(`code ${code} not listed`);
        return problems;
      });
    });
  });

  it("every reason the door's routes give is in an Errors table", () => {
    const tables = sections(top("REST"), 4)
      .filter((s) => s.heading === "Errors")
      .map((s) => s.body)
      .join("\n");
    const reasons = new Set([
      ...scanSources(
        ["src/doors/seed002/routes.ts"],
        [/RestError\(\s*"[A-Z_]+",\s*"(?:[^"\\]|\\.)*",\s*"([a-z_]+)"/g],
      ),
      ...scanSources(["src/doors/seed002/quiz-input.ts"], [/"(bad_request|invalid_quiz)"\s*\)/g]),
    ]);
    checkScanFound(reasons, [
      "no_session",
      "room_ended",
      "no_player",
      "bad_request",
      "invalid_quiz",
    ]);
    for (const reason of reasons) expect(tables, `reason ${reason}`).toContain(`\`${reason}\``);
  });
});

describe("docs/protocols/seed-002.md: limits and coverage", () => {
  it("states the door's limits as the code has them", () => {
    const limits = section(top("Overview"), 3, "Limits");
    expect(limits).toContain(`| entries per message | ${LEADERBOARD_CAP} |`);
    expect(limits).toContain(`| coalescing window of updates (ms) | ${UPDATE_COALESCE_MS} |`);
    expect(limits).toContain(`| concurrent streams per participant | ${STREAMS_PER_PARTICIPANT} |`);
    expect(limits).toContain(`| client frame size tolerated (bytes) | ${MAX_FRAME_BYTES} |`);
    expect(limits).toContain(`| quiz lifetime (hours) | ${QUIZ_TTL_MS / 3_600_000} |`);
  });

  it("every JSON example in the document sits in a section whose examples are checked", () => {
    const checked = [top("Stream"), top("REST")]
      .flatMap((t) => sections(t, 4))
      .filter((s) => CHECKED_SECTIONS.test(s.heading))
      .flatMap((s) => codeBlocks(s.body, "json"));
    expect(checked.length).toBe(codeBlocks(DOC, "json").length);
  });
});
