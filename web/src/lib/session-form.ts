/**
 * The session setup form: a mode and its settings, with each mode's
 * defaults (docs/protocol.md, create_room) and the ranges the server
 * accepts, checked here so the form can say which field is wrong (the
 * WebSocket refusal only says `bad_data`).
 */
import type { Mode, SettingsInput } from "./types.js";

export type ScoringPolicy = "kahoot" | "latency" | "vocab";

export interface SessionForm {
  mode: Mode;
  scoring: ScoringPolicy;
  streakBonus: boolean;
  basePoints: number;
  alpha: number;
  /** false: every question gets `questionTimeS`; true: each keeps its own limit. */
  useQuizTimes: boolean;
  questionTimeS: number;
  allowAnswerChange: boolean;
  maxParticipants: number;
  autoAdvance: boolean;
  revealS: number;
  intermissionS: number;
  /** self_paced: the session closes this many minutes after it is created; null = when the host ends it. */
  closesAfterMin: number | null;
  leaderboardSize: number;
  hostName: string;
}

/** Each mode's defaults, as the server applies them. */
export function formDefaults(mode: Mode, hostName = "Host"): SessionForm {
  const common = {
    mode,
    basePoints: 1000,
    alpha: 1,
    allowAnswerChange: false,
    intermissionS: 0,
    closesAfterMin: null,
    hostName,
  };
  switch (mode) {
    case "live":
      return {
        ...common,
        scoring: "kahoot",
        streakBonus: true,
        useQuizTimes: true,
        questionTimeS: 20,
        maxParticipants: 2000,
        autoAdvance: false,
        revealS: 5,
        leaderboardSize: 10,
      };
    case "quick_fire":
      return {
        ...common,
        scoring: "kahoot",
        streakBonus: false,
        useQuizTimes: false,
        questionTimeS: 15,
        maxParticipants: 6,
        autoAdvance: true,
        revealS: 2,
        leaderboardSize: 10,
      };
    case "self_paced":
      return {
        ...common,
        scoring: "vocab",
        streakBonus: false,
        useQuizTimes: true,
        questionTimeS: 30,
        maxParticipants: 1000,
        autoAdvance: true,
        revealS: 0,
        leaderboardSize: 100,
      };
  }
}

/** Which fields apply to a mode (the form hides the others). */
export function fieldsFor(mode: Mode): {
  pacing: boolean;
  intermission: boolean;
  closes: boolean;
} {
  return {
    pacing: mode !== "self_paced",
    intermission: mode === "live",
    closes: mode === "self_paced",
  };
}

export type FormField = keyof SessionForm;
export type FormProblems = Partial<Record<FormField, string>>;

function range(
  problems: FormProblems,
  field: FormField,
  value: number,
  min: number,
  max: number,
  unit: string,
  integer = true,
): void {
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    problems[field] = `must be ${integer ? "a whole number " : ""}from ${min} to ${max}${unit}`;
  }
}

/** What is wrong with the form, by field; empty when it can be sent. */
export function formProblems(f: SessionForm): FormProblems {
  const p: FormProblems = {};
  const name = f.hostName.trim();
  if (name.length === 0 || [...name].length > 24) p.hostName = "must be 1 to 24 characters";
  if (f.scoring === "latency") {
    range(p, "basePoints", f.basePoints, 1, 100_000, "");
    range(p, "alpha", f.alpha, 0.8, 1.5, "", false);
  }
  if (!f.useQuizTimes) range(p, "questionTimeS", f.questionTimeS, 0.1, 600, " seconds", false);
  range(p, "maxParticipants", f.maxParticipants, 1, 100_000, "");
  const fields = fieldsFor(f.mode);
  if (fields.pacing) range(p, "revealS", f.revealS, 0, 600, " seconds", false);
  if (fields.intermission) range(p, "intermissionS", f.intermissionS, 0, 600, " seconds", false);
  if (fields.closes && f.closesAfterMin !== null) {
    range(p, "closesAfterMin", f.closesAfterMin, 1, 7 * 24 * 60, " minutes");
  }
  range(p, "leaderboardSize", f.leaderboardSize, 1, 100, "");
  return p;
}

/** The create_room settings the form stands for, at server time `now` (for closes_at). */
export function settingsOf(f: SessionForm, now: number): SettingsInput {
  const scoring: SettingsInput["scoring"] =
    f.scoring === "kahoot"
      ? { policy: "kahoot", streak_bonus: f.streakBonus }
      : f.scoring === "latency"
        ? { policy: "latency", base_points: f.basePoints, alpha: f.alpha }
        : { policy: "vocab" };
  const fields = fieldsFor(f.mode);
  const s: SettingsInput = {
    scoring,
    question_time_ms: f.useQuizTimes ? null : Math.round(f.questionTimeS * 1000),
    allow_answer_change: f.allowAnswerChange,
    max_participants: f.maxParticipants,
    leaderboard_size: f.leaderboardSize,
  };
  if (fields.pacing) {
    s.auto_advance = f.autoAdvance;
    s.reveal_ms = Math.round(f.revealS * 1000);
  }
  if (fields.intermission) s.intermission_ms = Math.round(f.intermissionS * 1000);
  if (fields.closes) {
    s.closes_at = f.closesAfterMin === null ? null : now + Math.round(f.closesAfterMin * 60_000);
  }
  return s;
}
