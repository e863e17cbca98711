import { parse } from "csv-parse/sync";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { asParticipantId, asSessionId, asUserId } from "../../src/domain/ids.js";
import type { AnswerValue } from "../../src/domain/quiz.js";
import {
  RESULTS_CSV_COLUMNS,
  RESULTS_SUMMARY_COLUMNS,
  ResultsView,
  resultsCsvPieces,
  resultsJsonPieces,
  toResultsCsv,
  toResultsView,
  UTF8_BOM,
} from "../../src/doors/schemas/results.js";
import type {
  AnswerRecord,
  ParticipantRecord,
  ParticipantStatus,
  SessionBundle,
  StandingRecord,
} from "../../src/ports/storage.js";
import { buildResults, type SessionResults, summarizePlayer } from "../../src/services/results.js";
import { choiceQuestion, sessionRecord, typedQuestion } from "../support/fixtures.js";

const SESSION = asSessionId("0190f5a8-0000-7000-8000-000000000001");

const QUESTIONS = [
  choiceQuestion("q1", { text: "Capital of France?", options: ["Paris", "Lyon", "Nice"] }),
  choiceQuestion("q2", {
    kind: "multiple",
    text: "Primary colours?",
    options: ["Red", "Green", "Blue"],
    correct: [0, 2],
  }),
  typedQuestion("q3", ["Berlin", "berlin city"], { text: "Capital of Germany?" }),
];

function player(
  id: string,
  name: string,
  joinOrder: number,
  status: ParticipantStatus = "active",
  cachedScore = 0,
): ParticipantRecord {
  return {
    id: asParticipantId(id),
    sessionId: SESSION,
    userId: asUserId(`u_${id}`),
    name,
    role: "player",
    joinOrder,
    joinedAt: 1_000 + joinOrder,
    status,
    resumeTokenHash: `hash-${id}`,
    // The cached score is deliberately wrong in places: results must not trust it (S-6).
    score: cachedScore,
    kickReason: status === "kicked" ? "spam" : null,
  };
}

function host(): ParticipantRecord {
  return { ...player("p_host", "Host", 1), role: "host", userId: asUserId("host") };
}

function answer(
  seq: number,
  participant: string,
  questionIndex: number,
  value: AnswerValue,
  correct: boolean,
  points: number,
  elapsedMs = 1_000 + seq,
): AnswerRecord {
  return {
    sessionId: SESSION,
    participantId: asParticipantId(participant),
    questionIndex,
    questionId: QUESTIONS[questionIndex]?.id ?? `q${questionIndex + 1}`,
    answer: value,
    correct,
    points,
    elapsedMs,
    receivedAt: 10_000 + seq,
    seq,
  };
}

const choice = (index: number): AnswerValue => ({ kind: "choice", index });
const choices = (...indices: number[]): AnswerValue => ({ kind: "choices", indices });
const text = (t: string): AnswerValue => ({ kind: "text", text: t });

function bundle(
  participants: ParticipantRecord[],
  answers: AnswerRecord[],
  standings: StandingRecord[] = [],
): SessionBundle {
  const session = sessionRecord("live", QUESTIONS, {}, 500);
  session.state = {
    phase:
      standings.length > 0
        ? { kind: "ended", reason: "finished", at: 90_000 }
        : { kind: "reveal", index: 2, until: null },
    locked: false,
    epoch: 1,
    seq: 40,
    startedAt: 2_000,
    endedAt: standings.length > 0 ? 90_000 : null,
  };
  return {
    session,
    participants,
    answers: [...answers].sort((a, b) => a.seq - b.seq),
    served: [],
    bans: [],
    standings,
  };
}

/**
 * Ann and Bob tie on 1750 (Ann reached it first), Cy has 500, Fay and Eve have nothing (Fay
 * joined first), Gus answered only wrongly, Dee was kicked despite scoring.
 */
function game(standings: StandingRecord[] = []): SessionBundle {
  return bundle(
    [
      host(),
      player("p_ann", "Ann", 2, "active", 12),
      player("p_bob", "Bob", 3, "left"),
      player("p_cy", "Cy", 4),
      player("p_dee", "Dee", 5, "kicked", 990),
      player("p_z_fay", "Fay", 6),
      player("p_a_eve", "Eve", 7, "active", 99_999),
      player("p_gus", "Gus", 8),
    ],
    [
      answer(1, "p_bob", 0, choice(0), true, 900),
      answer(2, "p_ann", 0, choice(0), true, 950),
      answer(3, "p_cy", 0, choice(1), false, 0),
      answer(4, "p_dee", 0, choice(0), true, 990),
      answer(5, "p_ann", 1, choices(0, 2), true, 800),
      answer(6, "p_bob", 1, choices(2, 0), true, 850),
      answer(7, "p_cy", 2, text("berlin"), true, 500),
      answer(8, "p_bob", 2, text("Munich"), false, 0),
      answer(9, "p_gus", 1, choices(1), false, 0),
    ],
    standings,
  );
}

const ids = (r: SessionResults) => r.players.map((p) => p.participantId);
const ranks = (r: SessionResults) => r.players.map((p) => [p.name, p.rank, p.score]);

describe("buildResults", () => {
  it("reports the session and its questions", () => {
    const r = buildResults(game());
    expect(r.session).toEqual({
      id: SESSION,
      pin: "482913",
      title: "Test quiz",
      quizId: "quiz-1",
      mode: "live",
      phase: "reveal",
      status: "active",
      createdAt: 500,
      startedAt: 2_000,
      endedAt: null,
      questionCount: 3,
    });
    expect(r.questions.map((q) => [q.index, q.id, q.kind, q.correctAnswers])).toEqual([
      [0, "q1", "single", ["Paris"]],
      [1, "q2", "multiple", ["Red", "Blue"]],
      [2, "q3", "typed", ["Berlin"]],
    ]);
    expect(r.questions[1]?.options).toEqual(["Red", "Green", "Blue"]);
  });

  it("L-1, L-2, L-3: ranks by score, then who reached it first, then join order; kicked last", () => {
    const r = buildResults(game());
    expect(ranks(r)).toEqual([
      ["Ann", 1, 1750],
      ["Bob", 2, 1750],
      ["Cy", 3, 500],
      ["Fay", 4, 0],
      ["Eve", 5, 0],
      ["Gus", 6, 0],
      ["Dee", null, 990],
    ]);
    expect(r.players.find((p) => p.name === "Dee")?.status).toBe("kicked");
    expect(r.players.find((p) => p.name === "Bob")?.status).toBe("left");
  });

  it("L-3: hosts are not listed", () => {
    const r = buildResults(game());
    expect(ids(r)).not.toContain("p_host");
    expect(r.players).toHaveLength(7);
  });

  it("S-6: a score is the sum of the stored answers, whatever the participant record says", () => {
    const r = buildResults(game());
    const byName = new Map(r.players.map((p) => [p.name, p]));
    expect(byName.get("Ann")?.score).toBe(1750);
    expect(byName.get("Eve")?.score).toBe(0);
    for (const p of r.players) {
      expect(p.score).toBe(p.answers.reduce((n, a) => n + a.points, 0));
    }
  });

  it("gives every player one entry per question, unanswered ones included", () => {
    const r = buildResults(game());
    const bob = r.players.find((p) => p.name === "Bob")!;
    expect(bob.answers).toEqual([
      {
        questionIndex: 0,
        answered: true,
        answer: "Paris",
        correct: true,
        points: 900,
        elapsedMs: 1_001,
      },
      {
        questionIndex: 1,
        answered: true,
        answer: "Blue | Red",
        correct: true,
        points: 850,
        elapsedMs: 1_006,
      },
      {
        questionIndex: 2,
        answered: true,
        answer: "Munich",
        correct: false,
        points: 0,
        elapsedMs: 1_008,
      },
    ]);
    const eve = r.players.find((p) => p.name === "Eve")!;
    expect(eve.answers).toEqual(
      [0, 1, 2].map((questionIndex) => ({
        questionIndex,
        answered: false,
        answer: null,
        correct: false,
        points: 0,
        elapsedMs: null,
      })),
    );
  });

  it("A-1: a replaced answer counts once, and its seq decides who reached the score first", () => {
    // Ann first answered q2 at seq 5, then changed it at seq 10: Bob (seq 6) now reached 1750 first.
    const b = game();
    b.answers = b.answers
      .filter((a) => !(a.participantId === "p_ann" && a.questionIndex === 1))
      .concat(answer(10, "p_ann", 1, choices(2, 0), true, 800));
    const r = buildResults(b);
    expect(ranks(r).slice(0, 2)).toEqual([
      ["Bob", 1, 1750],
      ["Ann", 2, 1750],
    ]);
  });

  it("A-1: should the bundle hold both versions of an answer, only the later one counts", () => {
    const b = game();
    b.answers.push(answer(11, "p_cy", 2, text("Bonn"), false, 0));
    const cy = buildResults(b).players.find((p) => p.name === "Cy")!;
    expect(cy.score).toBe(0);
    expect(cy.answers[2]).toMatchObject({ answer: "Bonn", correct: false, points: 0 });
  });

  it("L-2: zero scores rank by join order, not by id", () => {
    const r = buildResults(
      bundle([player("p_b", "Late", 9), player("p_c", "Early", 2), player("p_a", "Middle", 5)], []),
    );
    expect(r.players.map((p) => [p.name, p.rank])).toEqual([
      ["Early", 1],
      ["Middle", 2],
      ["Late", 3],
    ]);
  });

  it("uses the stored standings once the session has ended", () => {
    const standings: StandingRecord[] = [
      { participantId: asParticipantId("p_bob"), score: 1750, rank: 1 },
      { participantId: asParticipantId("p_ann"), score: 1750, rank: 2 },
      { participantId: asParticipantId("p_cy"), score: 500, rank: 3 },
      { participantId: asParticipantId("p_gus"), score: 0, rank: 4 },
      { participantId: asParticipantId("p_z_fay"), score: 0, rank: 5 },
      { participantId: asParticipantId("p_a_eve"), score: 0, rank: 6 },
    ];
    const r = buildResults(game(standings));
    expect(r.session).toMatchObject({ phase: "ended", status: "completed", endedAt: 90_000 });
    expect(ranks(r)).toEqual([
      ["Bob", 1, 1750],
      ["Ann", 2, 1750],
      ["Cy", 3, 500],
      ["Gus", 4, 0],
      ["Fay", 5, 0],
      ["Eve", 6, 0],
      ["Dee", null, 990],
    ]);
  });

  it("L-1: ranks stay 1..n when a player in the standings was kicked after the end", () => {
    const b = game([
      { participantId: asParticipantId("p_cy"), score: 500, rank: 1 },
      { participantId: asParticipantId("p_ann"), score: 1750, rank: 2 },
    ]);
    b.participants = b.participants.map((p) =>
      p.id === "p_cy" ? { ...p, status: "kicked" as const } : p,
    );
    const r = buildResults(b);
    // Ann keeps her stored place; the players missing from the standings follow in engine order.
    expect(r.players.map((p) => [p.name, p.rank])).toEqual([
      ["Ann", 1],
      ["Bob", 2],
      ["Fay", 3],
      ["Eve", 4],
      ["Gus", 5],
      ["Cy", null],
      ["Dee", null],
    ]);
  });

  it("reads an unmatched text answer to a choice question as the text the player sent", () => {
    const b = bundle([player("p_x", "X", 2)], [answer(1, "p_x", 0, text("Marseille"), false, 0)]);
    expect(buildResults(b).players[0]?.answers[0]?.answer).toBe("Marseille");
  });
});

describe("toResultsView", () => {
  it("matches the ResultsView schema, in snake_case", () => {
    const view = toResultsView(buildResults(game()));
    expect(Compile(ResultsView).Check(view)).toBe(true);
    expect(view.session.quiz_id).toBe("quiz-1");
    expect(view.questions[2]?.correct_answers).toEqual(["Berlin"]);
    expect(view.players[0]).toMatchObject({ participant_id: "p_ann", rank: 1, score: 1750 });
    expect(view.players[6]).toMatchObject({
      participant_id: "p_dee",
      rank: null,
      status: "kicked",
    });
    expect(view.players[4]?.answers[0]).toEqual({
      question_index: 0,
      answered: false,
      answer: null,
      correct: false,
      points: 0,
      elapsed_ms: null,
    });
  });
});

describe("resultsJsonPieces", () => {
  it("joined, the pieces are the view's JSON, whatever the players per piece", () => {
    const results = buildResults(game());
    const whole = JSON.stringify(toResultsView(results));
    for (const per of [1, 2, 3, 250]) {
      const pieces = [...resultsJsonPieces(results, per)];
      expect(pieces.join("")).toBe(whole);
      // The head, ceil(players / per) pieces of players, the tail.
      expect(pieces).toHaveLength(2 + Math.ceil(results.players.length / per));
    }
  });

  it("the CSV in pieces is the CSV, whatever the players per piece and the part", () => {
    const results = buildResults(game());
    for (const part of ["all", "summary", "answers"] as const) {
      const whole = toResultsCsv(results, part);
      expect(whole.startsWith(UTF8_BOM)).toBe(true);
      for (const per of [1, 2, 3, 250]) {
        expect([...resultsCsvPieces(results, part, per)].join("")).toBe(whole);
      }
    }
    const none = buildResults(bundle([], []));
    expect([...resultsCsvPieces(none, "all", 2)].join("")).toBe(toResultsCsv(none, "all"));
    expect(toResultsCsv(none, "summary")).toBe(`${UTF8_BOM}${RESULTS_SUMMARY_COLUMNS.join(",")}\n`);
  });

  it("a session without players is an empty list", () => {
    const results = buildResults(bundle([], []));
    expect([...resultsJsonPieces(results, 250)].join("")).toBe(
      JSON.stringify(toResultsView(results)),
    );
  });
});

describe("toResultsCsv", () => {
  type Row = Record<(typeof RESULTS_CSV_COLUMNS)[number], string>;
  type SummaryRow = Record<(typeof RESULTS_SUMMARY_COLUMNS)[number], string>;
  const parseCsv = (csv: string): Row[] => parse(csv, { columns: true, bom: true }) as Row[];
  const answersOf = (r: SessionResults): Row[] => parseCsv(toResultsCsv(r, "answers"));
  const summaryOf = (r: SessionResults): SummaryRow[] =>
    parse(toResultsCsv(r, "summary"), { columns: true, bom: true }) as SummaryRow[];

  it("starts with a UTF-8 byte-order mark, so spreadsheets show accented names", () => {
    for (const part of ["all", "summary", "answers"] as const) {
      const csv = toResultsCsv(buildResults(game()), part);
      expect(csv.startsWith(UTF8_BOM)).toBe(true);
      expect(Buffer.from(csv, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    }
  });

  it("the download holds the summary table, an empty line, then the answers table", () => {
    const csv = toResultsCsv(buildResults(game())).slice(UTF8_BOM.length);
    const [summary, answers, ...rest] = csv.split("\n\n");
    expect(rest).toEqual([]);
    expect(summary?.split("\n")[0]).toBe(
      "rank,name,score,correct,answered,questions,average_time_s,status,participant_id",
    );
    expect(summary?.split("\n")).toHaveLength(1 + 7);
    expect(answers?.split("\n")[0]).toBe(
      "rank,participant_id,name,status,score,question,question_id,question_text,answer,correct,points,time_ms",
    );
    expect(answers?.trimEnd().split("\n")).toHaveLength(1 + 7 * 3);
  });

  it("summarises each player: rank, name, score, correct count, average answer time", () => {
    const rows = summaryOf(buildResults(game()));
    expect(rows.map((r) => [r.rank, r.name, r.score, r.correct, r.answered])).toEqual([
      ["1", "Ann", "1750", "2", "2"],
      ["2", "Bob", "1750", "2", "3"],
      ["3", "Cy", "500", "1", "2"],
      ["4", "Fay", "0", "0", "0"],
      ["5", "Eve", "0", "0", "0"],
      ["6", "Gus", "0", "0", "1"],
      ["", "Dee", "990", "1", "1"],
    ]);
    // Ann answered in 1002 and 1005 ms: 1.0 s on average; Bob in 1001, 1006 and 1008 ms.
    expect(rows[0]).toEqual({
      rank: "1",
      name: "Ann",
      score: "1750",
      correct: "2",
      answered: "2",
      questions: "3",
      average_time_s: "1.0",
      status: "active",
      participant_id: "p_ann",
    });
    // Nobody times a player who answered nothing.
    expect(rows[3]?.average_time_s).toBe("");
    expect(rows[6]).toMatchObject({ status: "kicked", participant_id: "p_dee" });
  });

  it("has one row per player and question, in rank order, unanswered questions included", () => {
    const rows = answersOf(buildResults(game()));
    expect(rows).toHaveLength(7 * 3);
    expect(rows.map((r) => r.name)).toEqual(
      ["Ann", "Bob", "Cy", "Fay", "Eve", "Gus", "Dee"].flatMap((n) => [n, n, n]),
    );
    expect(rows[3]).toEqual({
      rank: "2",
      participant_id: "p_bob",
      name: "Bob",
      status: "left",
      score: "1750",
      question: "1",
      question_id: "q1",
      question_text: "Capital of France?",
      answer: "Paris",
      correct: "true",
      points: "900",
      time_ms: "1001",
    });
    expect(rows[5]).toMatchObject({ answer: "Munich", correct: "false", points: "0" });
    // Eve answered nothing: her rows are there, with the answer columns empty; questions are
    // numbered from 1, as the app numbers them.
    expect(rows.slice(12, 15)).toEqual(
      [0, 1, 2].map((i) => ({
        rank: "5",
        participant_id: "p_a_eve",
        name: "Eve",
        status: "active",
        score: "0",
        question: String(i + 1),
        question_id: `q${i + 1}`,
        question_text: QUESTIONS[i]!.text,
        answer: "",
        correct: "",
        points: "0",
        time_ms: "",
      })),
    );
    // Kicked: no rank.
    expect(rows[18]).toMatchObject({ name: "Dee", rank: "", status: "kicked", score: "990" });
  });

  it("quotes commas, quotes and line breaks in names and answers", () => {
    const name = 'Zoë "Z", Jr.';
    const typed = 'line one,\nline "two"';
    const b = bundle(
      [player("p_z", name, 2)],
      [answer(1, "p_z", 1, choices(0, 1), false, 0), answer(2, "p_z", 2, text(typed), false, 0)],
    );
    b.session.questions = QUESTIONS.map((q, i) =>
      i === 1 ? { ...q, options: ["Red, dark", 'Say "green"', "Blue"] } : q,
    );
    const csv = toResultsCsv(buildResults(b), "answers");
    expect(csv).toContain('"Zoë ""Z"", Jr."');
    expect(csv).toContain('"line one,\nline ""two"""');
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.name)).toEqual([name, name, name]);
    expect(rows[1]?.answer).toBe('Red, dark | Say "green"');
    expect(rows[2]?.answer).toBe(typed);
    expect(summaryOf(buildResults(b))[0]?.name).toBe(name);
  });

  it("is just the header rows for a session without players", () => {
    const r = buildResults(bundle([host()], []));
    expect(toResultsCsv(r, "answers")).toBe(`${UTF8_BOM}${RESULTS_CSV_COLUMNS.join(",")}\n`);
    expect(toResultsCsv(r)).toBe(
      `${UTF8_BOM}${RESULTS_SUMMARY_COLUMNS.join(",")}\n\n${RESULTS_CSV_COLUMNS.join(",")}\n`,
    );
  });
});

describe("summarizePlayer", () => {
  const answer = (answered: boolean, correct: boolean, elapsedMs: number | null) => ({
    questionIndex: 0,
    answered,
    answer: answered ? "x" : null,
    correct,
    points: 0,
    elapsedMs,
  });

  it("counts correct and answered questions and averages the answer times of answered ones", () => {
    expect(
      summarizePlayer({
        answers: [answer(true, true, 1000), answer(true, false, 2001), answer(false, false, null)],
      }),
    ).toEqual({ correct: 1, answered: 2, averageElapsedMs: 1501 });
  });

  it("has no average time when nothing was answered", () => {
    expect(summarizePlayer({ answers: [answer(false, false, null)] })).toEqual({
      correct: 0,
      answered: 0,
      averageElapsedMs: null,
    });
  });
});
