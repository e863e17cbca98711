import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { QuizwireError } from "../../src/sdk/index.js";
import { ApiError, apiErrorOf } from "../../web/src/lib/api.js";
import { asErrorLike, errorText, isRoomProblem } from "../../web/src/lib/error-text.js";

const GENERIC = "Something went wrong. Try again.";

/** The reasons docs/protocol.md lists for the room and for session creation, plus the join lookups. */
function roomReasons(): string[] {
  const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
  const start = doc.indexOf("From the room (the game rules):");
  const end = doc.indexOf("From the door (reading frames):");
  const section = doc.slice(start, end);
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] as string);
}

describe("web errors in words", () => {
  it("every reason a room can give has its own sentence", () => {
    const reasons = [...roomReasons(), "bad_pin", "no_room", "rate_limited"];
    expect(reasons.length).toBeGreaterThan(20);
    const byCode = new Set(
      ["FORBIDDEN", "STATE", "NOT_FOUND", "CONFLICT", "VALIDATION"].map((code) =>
        errorText({ code }),
      ),
    );
    const exempt = new Set(["no_player", "already_kicked", "no_question"]); // host-internal, never shown to players
    for (const reason of reasons) {
      if (exempt.has(reason)) continue;
      const text = errorText({ code: "STATE", reason });
      expect(text, reason).not.toBe(GENERIC);
      expect(byCode.has(text), `${reason} falls back to its code's sentence`).toBe(false);
    }
  });

  it("the join errors say what happened and what to do", () => {
    expect(errorText({ reason: "bad_pin" }, { pin: "482913" })).toBe(
      "There is no game with PIN 482913. Check the number on the host's screen.",
    );
    expect(errorText({ reason: "name_taken" }, { name: "Ana" })).toBe(
      "Someone in this game is already called “Ana”. Pick another nickname.",
    );
    expect(errorText({ reason: "room_locked" })).toMatch(/locked/);
    expect(errorText({ reason: "banned" })).toMatch(/removed you/);
    expect(errorText({ reason: "room_full" })).toBe("This game is full.");
    expect(errorText({ code: "RATE_LIMIT", reason: "rate_limited", retryAfterMs: 4_200 })).toBe(
      "Too many attempts. Wait 5 s and try again.",
    );
  });

  it("reads SDK errors, REST errors and network failures alike", () => {
    const sdk = new QuizwireError({
      code: "DISCONNECTED",
      msg: "connection closed (1006)",
      retryable: true,
    });
    expect(errorText(sdk)).toMatch(/connection to the server was lost/);
    const rest = apiErrorOf(404, { code: "NOT_FOUND", message: "no quiz", reason: "no_quiz" });
    expect(rest).toBeInstanceOf(ApiError);
    expect(errorText(rest)).toBe("That quiz no longer exists.");
    expect(errorText(new TypeError("Failed to fetch"))).toMatch(/cannot be reached/);
    expect(asErrorLike("boom")).toEqual({});
    expect(errorText("boom")).toBe(GENERIC);
    expect(errorText({ code: "WHATEVER" })).toBe(GENERIC);
  });

  it("REST errors keep their issues and say when the admin token is needed", () => {
    const e = apiErrorOf(400, {
      code: "VALIDATION",
      message: "invalid quiz",
      reason: "invalid_quiz",
      issues: [{ path: "title", msg: "is required" }, { bogus: true }],
    });
    expect(e.issues).toEqual([{ path: "title", msg: "is required" }]);
    expect(e.needsAdmin).toBe(false);
    expect(
      apiErrorOf(403, { code: "FORBIDDEN", message: "x", reason: "not_admin" }).needsAdmin,
    ).toBe(true);
    expect(apiErrorOf(401, { code: "UNAUTHORIZED", message: "x" }).needsAdmin).toBe(true);
    // A proxy's HTML error page still becomes an error with a code.
    expect(apiErrorOf(502, "<html>bad gateway</html>").code).toBe("UNAVAILABLE");
  });

  it("room problems send the player back to the PIN, name problems keep them at the nickname", () => {
    expect(isRoomProblem({ reason: "room_locked" })).toBe(true);
    expect(isRoomProblem({ reason: "bad_pin" })).toBe(true);
    expect(isRoomProblem({ reason: "name_taken" })).toBe(false);
    expect(isRoomProblem({ reason: "invalid_name" })).toBe(false);
  });
});
