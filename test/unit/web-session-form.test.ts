import { describe, expect, it } from "vitest";
import {
  fieldsFor,
  formDefaults,
  formProblems,
  settingsOf,
} from "../../web/src/lib/session-form.js";

describe("web session setup form", () => {
  it("M-1, M-2, M-3: each mode starts from the server's own defaults", () => {
    expect(settingsOf(formDefaults("live"), 0)).toEqual({
      scoring: { policy: "kahoot", streak_bonus: true },
      question_time_ms: null,
      allow_answer_change: false,
      max_participants: 2000,
      leaderboard_size: 10,
      auto_advance: false,
      reveal_ms: 5000,
      intermission_ms: 0,
    });
    expect(settingsOf(formDefaults("quick_fire"), 0)).toEqual({
      scoring: { policy: "kahoot", streak_bonus: false },
      question_time_ms: 15_000,
      allow_answer_change: false,
      max_participants: 6,
      leaderboard_size: 10,
      auto_advance: true,
      reveal_ms: 2000,
    });
    expect(settingsOf(formDefaults("self_paced"), 0)).toEqual({
      scoring: { policy: "vocab" },
      question_time_ms: null,
      allow_answer_change: false,
      max_participants: 1000,
      leaderboard_size: 100,
      closes_at: null,
    });
  });

  it("sends only the settings a mode uses: closes_at for self-paced, intermission for live", () => {
    expect(fieldsFor("live")).toEqual({ pacing: true, intermission: true, closes: false });
    expect(fieldsFor("quick_fire")).toEqual({ pacing: true, intermission: false, closes: false });
    expect(fieldsFor("self_paced")).toEqual({ pacing: false, intermission: false, closes: true });
    const sp = { ...formDefaults("self_paced"), closesAfterMin: 30 };
    expect(settingsOf(sp, 1_000_000).closes_at).toBe(1_000_000 + 30 * 60_000);
  });

  it("S-3: latency scoring carries its base points and steepness", () => {
    const f = { ...formDefaults("live"), scoring: "latency" as const, basePoints: 500, alpha: 1.2 };
    expect(settingsOf(f, 0).scoring).toEqual({ policy: "latency", base_points: 500, alpha: 1.2 });
    expect(formProblems({ ...f, alpha: 2 })).toHaveProperty("alpha");
    expect(formProblems({ ...f, basePoints: 0 })).toHaveProperty("basePoints");
  });

  it("T-1: one time for every question replaces each question's own", () => {
    const f = { ...formDefaults("live"), useQuizTimes: false, questionTimeS: 7.5 };
    expect(settingsOf(f, 0).question_time_ms).toBe(7_500);
    expect(formProblems({ ...f, questionTimeS: 0 })).toHaveProperty("questionTimeS");
    // The per-question time is not checked while the quiz's own times are used.
    expect(formProblems({ ...formDefaults("live"), questionTimeS: 0 })).toEqual({});
  });

  it("names each field that is out of range", () => {
    const p = formProblems({
      ...formDefaults("live"),
      maxParticipants: 0,
      leaderboardSize: 101,
      revealS: -1,
      hostName: "   ",
    });
    expect(Object.keys(p).sort()).toEqual([
      "hostName",
      "leaderboardSize",
      "maxParticipants",
      "revealS",
    ]);
    expect(p.maxParticipants).toBe("must be a whole number from 1 to 100000");
    expect(formProblems(formDefaults("quick_fire"))).toEqual({});
    expect(formProblems({ ...formDefaults("live"), maxParticipants: Number.NaN })).toHaveProperty(
      "maxParticipants",
    );
  });
});
