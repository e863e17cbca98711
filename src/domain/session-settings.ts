/** How a session runs: one engine, three modes (see docs/rules.md, M-1..M-3). */
export type SessionMode = "live" | "quick_fire" | "self_paced";
export const SESSION_MODES: readonly SessionMode[] = ["live", "quick_fire", "self_paced"];

export type ScoringSettings =
  | { policy: "kahoot"; streakBonus: boolean }
  | { policy: "latency"; basePoints: number; alpha: number }
  | { policy: "vocab" };
export type ScoringPolicy = ScoringSettings["policy"];
export const SCORING_POLICIES: readonly ScoringPolicy[] = ["kahoot", "latency", "vocab"];

/**
 * What a live room does when its host's last connection closes (seed 000: "pause automatically
 * (config) or transfer host to `cohosts`"), once `hostGraceMs` has passed without them.
 */
export type HostDisconnect = "pause" | "transfer" | "continue";
export const HOST_DISCONNECT_POLICIES: readonly HostDisconnect[] = [
  "pause",
  "transfer",
  "continue",
];

export interface SessionSettings {
  mode: SessionMode;
  scoring: ScoringSettings;
  /** Overrides every question's own time limit when set. */
  questionTimeMs: number | null;
  /** "First answer wins" when false; otherwise an answer may be replaced until the deadline. */
  allowAnswerChange: boolean;
  maxParticipants: number;
  /** live: move on from reveal/intermission by timer instead of waiting for the host. */
  autoAdvance: boolean;
  /** How long a reveal stays up when auto-advancing. */
  revealMs: number;
  /** Leaderboard pause between questions; 0 means no intermission phase. */
  intermissionMs: number;
  /** self_paced: absolute server epoch ms at which the session completes by itself. */
  closesAt: number | null;
  /**
   * Absolute server epoch ms at which the session starts by itself (seed 001's
   * `start_time`); null: it starts otherwise (the host, or `startOnJoin`).
   * Absent from sessions stored before it existed: read it as null.
   */
  startsAt?: number | null;
  /**
   * The first participant's arrival starts the session (seed 001 clients have
   * no start call). Absent from sessions stored before it existed: false.
   */
  startOnJoin?: boolean;
  /** How long a kicked user stays out of the room. */
  banMs: number;
  /** Entries in the leaderboards this session publishes (reveal, intermission, end). */
  leaderboardSize: number;
  /** H-1: what happens when the host's seat has no connection left for `hostGraceMs`. */
  hostDisconnect: HostDisconnect;
  /** H-1: how long the host may be gone before `hostDisconnect` applies (at most 10 s). */
  hostGraceMs: number;
  /** H-2: users who may take the host's place, in order of preference. */
  cohosts: string[];
  /** users who may join by room id, without the PIN. */
  invited: string[];
}

/** The host-disconnect and invitation settings, for sessions stored before they existed. */
export const HOST_SETTING_DEFAULTS: Readonly<
  Pick<SessionSettings, "hostDisconnect" | "hostGraceMs" | "cohosts" | "invited">
> = {
  hostDisconnect: "pause",
  hostGraceMs: 5_000,
  cohosts: [],
  invited: [],
};

/** Settings read back from storage, with what older sessions lack filled in. */
export function withSettingDefaults(s: SessionSettings): SessionSettings {
  return {
    ...s,
    hostDisconnect: s.hostDisconnect ?? HOST_SETTING_DEFAULTS.hostDisconnect,
    hostGraceMs: s.hostGraceMs ?? HOST_SETTING_DEFAULTS.hostGraceMs,
    cohosts: s.cohosts ?? [],
    invited: s.invited ?? [],
  };
}

export const SETTINGS_LIMITS = {
  questionTimeMinMs: 100,
  questionTimeMaxMs: 600_000,
  maxParticipantsMax: 100_000,
  revealMaxMs: 600_000,
  intermissionMaxMs: 600_000,
  banMaxMs: 7 * 24 * 3600_000,
  leaderboardSizeMax: 100,
  latencyAlphaMin: 0.8,
  latencyAlphaMax: 1.5,
  latencyBaseMax: 100_000,
  hostGraceMaxMs: 10_000,
  cohostsMax: 20,
  invitedMax: 200,
  userIdMax: 128,
} as const;

const DEFAULTS: Record<SessionMode, SessionSettings> = {
  live: {
    mode: "live",
    scoring: { policy: "kahoot", streakBonus: true },
    questionTimeMs: null,
    allowAnswerChange: false,
    maxParticipants: 2_000,
    autoAdvance: false,
    revealMs: 5_000,
    intermissionMs: 0,
    closesAt: null,
    banMs: 10 * 60_000,
    leaderboardSize: 10,
    ...HOST_SETTING_DEFAULTS,
  },
  quick_fire: {
    mode: "quick_fire",
    scoring: { policy: "kahoot", streakBonus: false },
    questionTimeMs: 15_000,
    allowAnswerChange: false,
    maxParticipants: 6,
    autoAdvance: true,
    revealMs: 2_000,
    intermissionMs: 0,
    closesAt: null,
    banMs: 10 * 60_000,
    leaderboardSize: 10,
    ...HOST_SETTING_DEFAULTS,
  },
  self_paced: {
    mode: "self_paced",
    scoring: { policy: "vocab" },
    questionTimeMs: null,
    allowAnswerChange: false,
    maxParticipants: 1_000,
    autoAdvance: true,
    revealMs: 0,
    intermissionMs: 0,
    closesAt: null,
    banMs: 10 * 60_000,
    leaderboardSize: 100,
    ...HOST_SETTING_DEFAULTS,
  },
};

export function defaultSettings(mode: SessionMode): SessionSettings {
  const d = DEFAULTS[mode];
  return { ...d, scoring: { ...d.scoring }, cohosts: [], invited: [] };
}

/** Fills what the caller left out with the mode's defaults. Range checks happen at the door's schema. */
export function resolveSettings(
  mode: SessionMode,
  partial: Partial<Omit<SessionSettings, "mode">> = {},
): SessionSettings {
  const base = defaultSettings(mode);
  const out: SessionSettings = { ...base, mode };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
