/**
 * The work before a reveal's first write, without a network. Not a test: plays a live room of
 * N players in one process (the engine's `Room`, pure), every player answering each question,
 * and times the three steps every player waits for before a reveal's writes begin:
 *
 * - the room: the last answer's storage, which reveals the question (`Room.reveal`: every
 *   player's result, in rank order);
 * - the canonical door's encoding of that reveal (`encodeEvent`: every player's own part, the
 *   hosts' list of everyone);
 * - each player's own part looked up, as the driver does per connection (`SplicedFrame.part`).
 *
 * Prints the median and the slowest of each over the questions. Bounded: N players, Q questions.
 *
 *   npx tsx bench/reveal.ts [--players 10000] [--questions 8]
 */
import { parseArgs } from "node:util";
import { hashToken } from "../src/auth/token-hash.js";
import {
  asQuestionId,
  asQuizId,
  asSessionId,
  asUserId,
  type ParticipantId,
} from "../src/domain/ids.js";
import type { Question } from "../src/domain/quiz.js";
import { SeededRandom } from "../src/domain/seeded-random.js";
import { resolveSettings } from "../src/domain/session-settings.js";
import { encodeEvent } from "../src/doors/canonical/encode.js";
import type { SplicedFrame } from "../src/doors/ws-kit/dialect.js";
import { lobbyState, Room } from "../src/engine/room.js";
import type { Actor, RoomEvent } from "../src/engine/types.js";

export interface RevealBenchRow {
  step: string;
  medianMs: number;
  maxMs: number;
}

export interface RevealBenchOptions {
  players?: number;
  questions?: number;
}

const TIME_LIMIT_MS = 20_000;

function question(i: number): Question {
  return {
    id: asQuestionId(`q${i}`),
    kind: "single",
    text: `Question ${i}: which of these is the right one?`,
    options: ["Paris", "Lyon", "Marseille", "Toulouse"],
    correct: [i % 4],
    accepted: [],
    timeLimitMs: TIME_LIMIT_MS,
    multiplier: 1,
    difficulty: "medium",
    tags: [],
    points: 1000,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export function runRevealBench(options: RevealBenchOptions = {}): RevealBenchRow[] {
  const players = options.players ?? 10_000;
  const questions = options.questions ?? 8;
  const random = new SeededRandom(7);
  const settings = resolveSettings("live", { maxParticipants: players, autoAdvance: false });
  const room = Room.create(
    {
      id: asSessionId("0190f5a8-0000-7000-8000-00000000beef"),
      pin: "482913",
      quizId: asQuizId("bench-quiz"),
      title: "Reveal bench",
      settings,
      questions: Array.from({ length: questions }, (_, i) => question(i)),
      hostUserId: asUserId("host"),
      createdAt: 0,
      state: lobbyState(),
    },
    { random, hashToken },
  );
  const host: Actor = { userId: asUserId("host"), roles: [], anonymous: false };
  let now = 1_000;
  const actors: Actor[] = [];
  for (let i = 0; i < players; i++) {
    const actor: Actor = { userId: asUserId(`bench-user-${i}`), roles: [], anonymous: true };
    const out = room.execute(actor, { type: "join", name: `Player ${i}` }, now);
    if (out.kind !== "reply" || !out.reply.ok) throw new Error("join refused");
    const participantId = (out.reply.value as { participantId: ParticipantId }).participantId;
    const player = { ...actor, participantId };
    room.execute(player, { type: "presence", connected: true }, now);
    actors.push(player);
  }
  room.execute(host, { type: "start" }, now);
  room.drain();

  const roomMs: number[] = [];
  const encodeMs: number[] = [];
  const partsMs: number[] = [];
  let sink = 0;
  for (let q = 0; q < questions; q++) {
    const tickets: number[] = [];
    for (const [i, actor] of actors.entries()) {
      now += 1;
      const out = room.execute(
        actor,
        { type: "answer", target: { index: q }, answer: { kind: "choice", index: (i * 7) % 4 } },
        now,
      );
      if (out.kind === "pending") tickets.push(out.ticket);
    }
    // The last player's answer closed the question (all answered); its reveal waits for the
    // answers to be stored (T-5). Every other answer is stored first; the last one's storage,
    // as the commit that settles it, reveals the question.
    const last = tickets.pop();
    if (last === undefined) throw new Error("no answers pending");
    room.stored(tickets, now);
    room.drain();
    const t0 = performance.now();
    room.stored([last], now);
    const t1 = performance.now();
    const reveal = room.drain().events.find((e) => e.body.type === "reveal");
    if (reveal === undefined) throw new Error("no reveal");
    const frames = encodeEvent(reveal as RoomEvent);
    const t2 = performance.now();
    const personal = frames.find((f) => f.personal !== null)?.personal as SplicedFrame;
    for (const a of actors) sink += personal.part(a.participantId as ParticipantId).length;
    const t3 = performance.now();
    roomMs.push(t1 - t0);
    encodeMs.push(t2 - t1);
    partsMs.push(t3 - t2);
    now += TIME_LIMIT_MS + 1;
    room.execute(host, { type: "next" }, now);
    room.drain();
  }
  if (sink === 0) throw new Error("no parts");
  const row = (step: string, xs: number[]) => ({
    step,
    medianMs: median(xs),
    maxMs: Math.max(...xs),
  });
  return [
    row("room: the reveal (Room.stored)", roomMs),
    row("canonical encoding (encodeEvent)", encodeMs),
    row("each player's own part looked up", partsMs),
  ];
}

/** The rows as a table: the step, its median and its slowest. */
export function formatRevealRows(rows: readonly RevealBenchRow[]): string {
  const lines = ["step                                   median     max  (ms)"];
  for (const r of rows) {
    lines.push(
      `${r.step.padEnd(38)} ${r.medianMs.toFixed(2).padStart(7)} ${r.maxMs.toFixed(2).padStart(7)}`,
    );
  }
  return lines.join("\n");
}

function main(): void {
  const { values } = parseArgs({
    options: {
      players: { type: "string", default: "10000" },
      questions: { type: "string", default: "8" },
    },
  });
  const players = Number(values.players);
  const questions = Number(values.questions);
  if (!Number.isInteger(players) || players < 2 || !Number.isInteger(questions) || questions < 1) {
    throw new Error("--players needs an integer of at least 2, --questions one of at least 1");
  }
  console.log(`A reveal's work before its first write: ${players} players, ${questions} questions`);
  console.log(formatRevealRows(runRevealBench({ players, questions })));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
