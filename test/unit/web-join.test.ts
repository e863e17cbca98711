import { describe, expect, it } from "vitest";
import {
  formatPin,
  isLoopback,
  isValidPin,
  joinBase,
  joinUrl,
  malformedPinText,
  nicknameProblem,
  normalisePin,
  onlyThisMachine,
  randomNickname,
} from "../../web/src/lib/join.js";

describe("web joining: PIN, join link, nickname", () => {
  it("P-1: a PIN is six digits starting 1–9; spaces people type are ignored", () => {
    expect(normalisePin(" 482 913 ")).toBe("482913");
    expect(normalisePin("482-913")).toBe("482913");
    expect(isValidPin("482913")).toBe(true);
    expect(isValidPin("082913")).toBe(false);
    expect(isValidPin("48291")).toBe(false);
    expect(isValidPin("48291a")).toBe(false);
    expect(formatPin("482913")).toBe("482 913");
  });

  it("a PIN that cannot be one is said in words, repeating what was typed", () => {
    expect(malformedPinText("12ab")).toBe(
      "“12ab” is not a game PIN. A game PIN is six digits, shown on the host's screen.",
    );
    expect(malformedPinText("  ")).toBe(
      "There is no game PIN here. A game PIN is six digits, shown on the host's screen.",
    );
    expect(malformedPinText("9".repeat(200))).toContain(`“${"9".repeat(20)}”`);
  });

  it("the join link uses PUBLIC_URL when the operator set one", () => {
    const config = {
      public_url: "https://quiz.example.com/",
      lan_urls: ["http://10.0.0.5:8080"],
      admin_token_required: false,
    };
    expect(joinBase("http://localhost:8080", config)).toBe("https://quiz.example.com");
    expect(joinUrl("https://quiz.example.com", "482913")).toBe(
      "https://quiz.example.com/play?pin=482913",
    );
  });

  it("a host on localhost gets the machine's network address, which phones can open", () => {
    const config = {
      public_url: null,
      lan_urls: ["http://192.168.1.20:8080"],
      admin_token_required: false,
    };
    expect(joinBase("http://localhost:8080", config)).toBe("http://192.168.1.20:8080");
    expect(joinBase("http://127.0.0.1:8080", config)).toBe("http://192.168.1.20:8080");
    // A host already on a network address keeps it.
    expect(joinBase("http://192.168.1.20:8080", config)).toBe("http://192.168.1.20:8080");
    expect(joinBase("https://quiz.school.org", config)).toBe("https://quiz.school.org");
    // No network at all: localhost, flagged as reachable from this machine only.
    const none = { public_url: null, lan_urls: [], admin_token_required: false };
    expect(joinBase("http://localhost:8080", none)).toBe("http://localhost:8080");
    expect(onlyThisMachine("http://localhost:8080")).toBe(true);
    expect(onlyThisMachine("http://192.168.1.20:8080")).toBe(false);
    expect(joinBase("http://localhost:8080", null)).toBe("http://localhost:8080");
  });

  it("knows loopback names", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost", "0.0.0.0"]) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of ["192.168.1.2", "quiz.example.com", "10.0.0.1"])
      expect(isLoopback(h), h).toBe(false);
  });

  it("N-1: generated nicknames are valid names", () => {
    let seed = 0;
    const random = () => {
      seed = (seed * 9301 + 49297) % 233280;
      return seed / 233280;
    };
    for (let i = 0; i < 200; i++) {
      const name = randomNickname(random);
      expect(name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+ [1-9]\d$/);
      expect(nicknameProblem(name)).toBeNull();
    }
    expect(randomNickname(() => 0.999999)).toMatch(/ 99$/);
    expect(randomNickname(() => 0)).toBe("Brave Otter 10");
  });

  it("N-1: says what is wrong with a nickname before asking the server", () => {
    expect(nicknameProblem("   ")).toBe("Type a nickname, or pick one for me.");
    expect(nicknameProblem("x".repeat(25))).toBe("Nicknames are at most 24 characters.");
    expect(nicknameProblem("  Ann   Lee ")).toBeNull();
    expect(nicknameProblem("bad\u0007name")).toMatch(/control characters/);
    expect(nicknameProblem("zero\u200bwidth")).toMatch(/control characters/);
    // Characters, not UTF-16 units: 24 emoji are fine.
    expect(nicknameProblem("🙂".repeat(24))).toBeNull();
  });
});
