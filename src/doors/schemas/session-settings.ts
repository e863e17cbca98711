import Type from "typebox";
import {
  HOST_DISCONNECT_POLICIES,
  HOST_SETTING_DEFAULTS,
  SESSION_MODES,
  SETTINGS_LIMITS,
  type SessionSettings,
} from "../../domain/session-settings.js";

/**
 * Session settings as clients send them (snake_case), shared by REST and the
 * WebSocket doors. Everything is optional; the mode's defaults fill the rest.
 */
export const ScoringInput = Type.Union([
  Type.Object(
    { policy: Type.Literal("kahoot"), streak_bonus: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      policy: Type.Literal("latency"),
      base_points: Type.Optional(
        Type.Integer({ minimum: 1, maximum: SETTINGS_LIMITS.latencyBaseMax }),
      ),
      alpha: Type.Optional(
        Type.Number({
          minimum: SETTINGS_LIMITS.latencyAlphaMin,
          maximum: SETTINGS_LIMITS.latencyAlphaMax,
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ policy: Type.Literal("vocab") }, { additionalProperties: false }),
]);

function UserIds(max: number) {
  return Type.Array(Type.String({ minLength: 1, maxLength: SETTINGS_LIMITS.userIdMax }), {
    maxItems: max,
  });
}

export const SettingsInput = Type.Object(
  {
    scoring: Type.Optional(ScoringInput),
    question_time_ms: Type.Optional(
      Type.Union([
        Type.Integer({
          minimum: SETTINGS_LIMITS.questionTimeMinMs,
          maximum: SETTINGS_LIMITS.questionTimeMaxMs,
        }),
        Type.Null(),
      ]),
    ),
    allow_answer_change: Type.Optional(Type.Boolean()),
    max_participants: Type.Optional(
      Type.Integer({ minimum: 1, maximum: SETTINGS_LIMITS.maxParticipantsMax }),
    ),
    auto_advance: Type.Optional(Type.Boolean()),
    reveal_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: SETTINGS_LIMITS.revealMaxMs })),
    intermission_ms: Type.Optional(
      Type.Integer({ minimum: 0, maximum: SETTINGS_LIMITS.intermissionMaxMs }),
    ),
    closes_at: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    ban_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: SETTINGS_LIMITS.banMaxMs })),
    leaderboard_size: Type.Optional(
      Type.Integer({ minimum: 1, maximum: SETTINGS_LIMITS.leaderboardSizeMax }),
    ),
    host_disconnect: Type.Optional(Type.Enum([...HOST_DISCONNECT_POLICIES])),
    host_grace_ms: Type.Optional(
      Type.Integer({ minimum: 0, maximum: SETTINGS_LIMITS.hostGraceMaxMs }),
    ),
    cohosts: Type.Optional(UserIds(SETTINGS_LIMITS.cohostsMax)),
    invited: Type.Optional(UserIds(SETTINGS_LIMITS.invitedMax)),
  },
  { additionalProperties: false },
);
export type SettingsInput = Type.Static<typeof SettingsInput>;

export const ModeInput = Type.Enum([...SESSION_MODES]);

/** The settings as the server reports them (snake_case, every field present). */
export const SettingsView = Type.Object({
  mode: ModeInput,
  scoring: Type.Union([
    Type.Object({ policy: Type.Literal("kahoot"), streak_bonus: Type.Boolean() }),
    Type.Object({
      policy: Type.Literal("latency"),
      base_points: Type.Integer(),
      alpha: Type.Number(),
    }),
    Type.Object({ policy: Type.Literal("vocab") }),
  ]),
  question_time_ms: Type.Union([Type.Integer(), Type.Null()]),
  allow_answer_change: Type.Boolean(),
  max_participants: Type.Integer(),
  auto_advance: Type.Boolean(),
  reveal_ms: Type.Integer(),
  intermission_ms: Type.Integer(),
  closes_at: Type.Union([Type.Integer(), Type.Null()]),
  ban_ms: Type.Integer(),
  leaderboard_size: Type.Integer(),
  host_disconnect: Type.Enum([...HOST_DISCONNECT_POLICIES]),
  host_grace_ms: Type.Integer(),
  cohosts: Type.Array(Type.String()),
  invited: Type.Array(Type.String()),
});
export type SettingsView = Type.Static<typeof SettingsView>;

/** Wire settings → the partial domain settings `resolveSettings` completes. */
export function settingsFromInput(
  input: SettingsInput | undefined,
): Partial<Omit<SessionSettings, "mode">> {
  if (!input) return {};
  const out: Partial<Omit<SessionSettings, "mode">> = {};
  const s = input.scoring;
  if (s) {
    out.scoring =
      s.policy === "kahoot"
        ? { policy: "kahoot", streakBonus: s.streak_bonus ?? true }
        : s.policy === "latency"
          ? { policy: "latency", basePoints: s.base_points ?? 1000, alpha: s.alpha ?? 1 }
          : { policy: "vocab" };
  }
  if (input.question_time_ms !== undefined) out.questionTimeMs = input.question_time_ms;
  if (input.allow_answer_change !== undefined) out.allowAnswerChange = input.allow_answer_change;
  if (input.max_participants !== undefined) out.maxParticipants = input.max_participants;
  if (input.auto_advance !== undefined) out.autoAdvance = input.auto_advance;
  if (input.reveal_ms !== undefined) out.revealMs = input.reveal_ms;
  if (input.intermission_ms !== undefined) out.intermissionMs = input.intermission_ms;
  if (input.closes_at !== undefined) out.closesAt = input.closes_at;
  if (input.ban_ms !== undefined) out.banMs = input.ban_ms;
  if (input.leaderboard_size !== undefined) out.leaderboardSize = input.leaderboard_size;
  if (input.host_disconnect !== undefined) out.hostDisconnect = input.host_disconnect;
  if (input.host_grace_ms !== undefined) out.hostGraceMs = input.host_grace_ms;
  if (input.cohosts !== undefined) out.cohosts = [...new Set(input.cohosts)];
  if (input.invited !== undefined) out.invited = [...new Set(input.invited)];
  return out;
}

export function settingsView(s: SessionSettings): SettingsView {
  const scoring: SettingsView["scoring"] =
    s.scoring.policy === "kahoot"
      ? { policy: "kahoot", streak_bonus: s.scoring.streakBonus }
      : s.scoring.policy === "latency"
        ? { policy: "latency", base_points: s.scoring.basePoints, alpha: s.scoring.alpha }
        : { policy: "vocab" };
  return {
    mode: s.mode,
    scoring,
    question_time_ms: s.questionTimeMs,
    allow_answer_change: s.allowAnswerChange,
    max_participants: s.maxParticipants,
    auto_advance: s.autoAdvance,
    reveal_ms: s.revealMs,
    intermission_ms: s.intermissionMs,
    closes_at: s.closesAt,
    ban_ms: s.banMs,
    leaderboard_size: s.leaderboardSize,
    host_disconnect: s.hostDisconnect ?? HOST_SETTING_DEFAULTS.hostDisconnect,
    host_grace_ms: s.hostGraceMs ?? HOST_SETTING_DEFAULTS.hostGraceMs,
    cohosts: s.cohosts ?? [],
    invited: s.invited ?? [],
  };
}
