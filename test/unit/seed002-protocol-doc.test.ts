import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

/**
 * Keeps docs/protocols/seed-002.md and src/doors/seed002/protocol.ts from drifting apart: the
 * stream and every REST endpoint have their section, every JSON example passes the schema it
 * documents (request bodies pass the door's own decoder), and every upgrade refusal, close code,
 * error code, reason and limit is documented.
 */

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DOC = readFileSync(root("docs/protocols/seed-002.md"), "utf8");

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

function only(found: Section[], what: string): string {
  expect(found, `exactly one ${what}`).toHaveLength(1);
  return found[0]!.body;
}

const top = (name: string) =>
  only(
    sections(DOC, 2).filter((s) => s.heading === name),
    `"## ${name}"`,
  );
const sub = (text: string, level: number, name: string) =>
  only(
    sections(text, level).filter((s) => s.heading === name),
    `"${"#".repeat(level)} ${name}"`,
  );

/** The contents of the fenced blocks tagged `lang` in `text`. */
function codeBlocks(text: string, lang: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm))
    if (m[1] === lang) out.push(m[2]!);
  return out;
}

function parseJson(block: string, where: string): unknown {
  try {
    return JSON.parse(block);
  } catch (err) {
    throw new Error(`${where}: example is not valid JSON: ${(err as Error).message}\n${block}`);
  }
}

function schemaProblems(schema: TSchema, value: unknown): string[] {
  const v = Compile(schema);
  return v.Check(value) ? [] : v.Errors(value).map((e) => `${e.instancePath} ${e.message}`);
}

function checkBlocks(text: string, where: string, problems: (value: unknown) => string[]): number {
  const blocks = codeBlocks(text, "json");
  for (const block of blocks) {
    expect(problems(parseJson(block, where)), `${where} example:\n${block}`).toEqual([]);
  }
  return blocks.length;
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
    const n = checkBlocks(sub(stream, 4, "Messages"), "message", (v) =>
      leaderboardMessageValidator.Check(v)
        ? []
        : leaderboardMessageValidator.Errors(v).map((e) => `${e.instancePath} ${e.message}`),
    );
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it("lists exactly the upgrade refusals the door sends, with status and exact text", () => {
    const rows = [
      ...sub(stream, 4, "Upgrade errors").matchAll(/^\| (\d{3}) \| `([^`]+)` \|$/gm),
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
      ...sub(stream, 4, "Close codes").matchAll(/^\| `(\d{4})` \| `([A-Za-z]+)` \|/gm),
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
      const n = checkBlocks(only(requests, "#### Request"), `${heading} request`, (v) => {
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
        const n = checkBlocks(r.body, `${heading} ${status}`, (v) => schemaProblems(schema, v));
        expect(n, `${heading} ${status} has an example`).toBeGreaterThan(0);
      }
    });

    it("lists exactly its error codes with their statuses; error examples are error bodies", () => {
      const errors = sub(body(), 4, "Errors");
      const rows = [...errors.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)];
      for (const [, status, code] of rows) {
        expect(Number(status), `${code}'s status`).toBe(ERROR_CODES[code as ErrorCode].status);
      }
      const codes = new Set(rows.map((m) => m[2]));
      expect([...codes].sort()).toEqual([...new Set(endpoint.errors)].sort());
      checkBlocks(errors, `${heading} error`, (v) => {
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
    const reasons = new Set<string>();
    const routes = readFileSync(root("src/doors/seed002/routes.ts"), "utf8");
    for (const m of routes.matchAll(
      /RestError\(\s*"[A-Z_]+",\s*"(?:[^"\\]|\\.)*",\s*"([a-z_]+)"/g,
    )) {
      reasons.add(m[1]!);
    }
    const input = readFileSync(root("src/doors/seed002/quiz-input.ts"), "utf8");
    for (const m of input.matchAll(/"(bad_request|invalid_quiz)"\s*\)/g)) reasons.add(m[1]!);
    for (const known of ["no_session", "room_ended", "no_player", "bad_request", "invalid_quiz"]) {
      expect(reasons, `scan found ${known}`).toContain(known);
    }
    for (const reason of reasons) expect(tables, `reason ${reason}`).toContain(`\`${reason}\``);
  });
});

describe("docs/protocols/seed-002.md: limits and coverage", () => {
  it("states the door's limits as the code has them", () => {
    const limits = sub(top("Overview"), 3, "Limits");
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
