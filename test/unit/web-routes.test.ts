import { create } from "qrcode";
import { describe, expect, it } from "vitest";
import { endReasonText, optionLetter, ordinal, plural, points } from "../../web/src/lib/format.js";
import { qrPath, qrViewSize } from "../../web/src/lib/qr.js";
import { matchRoute, type Route, routePath } from "../../web/src/lib/routes.js";

describe("web routes, formatting and the QR code", () => {
  it("maps paths to the host app's screens and back", () => {
    const cases: Array<[string, string, Route]> = [
      ["/", "", { name: "library" }],
      ["/quiz/new", "", { name: "new-quiz" }],
      ["/quiz/general-knowledge", "", { name: "edit-quiz", quizId: "general-knowledge" }],
      ["/quiz/general-knowledge/start", "", { name: "start-quiz", quizId: "general-knowledge" }],
      ["/host/0193502c-7e1a", "", { name: "host", roomId: "0193502c-7e1a" }],
      ["/screen", "?pin=482913", { name: "screen", roomId: null, pin: "482913" }],
      ["/screen/r1", "", { name: "screen", roomId: "r1", pin: null }],
    ];
    for (const [path, search, route] of cases) {
      expect(matchRoute(path, search), path).toEqual(route);
      if (route.name !== "not-found") expect(routePath(route)).toBe(path + search);
    }
    expect(matchRoute("/quiz/abc/")).toEqual({ name: "edit-quiz", quizId: "abc" });
    expect(matchRoute("/quiz/a/b/c")).toEqual({ name: "not-found", path: "/quiz/a/b/c" });
    expect(matchRoute("/elsewhere")).toEqual({ name: "not-found", path: "/elsewhere" });
    expect(matchRoute("/host/%E0%A4%A")).toEqual({ name: "not-found", path: "/host/%E0%A4%A" });
  });

  it("formats ranks, points and times the same on every device", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual([
      "1st",
      "2nd",
      "3rd",
      "4th",
      "11th",
      "12th",
      "13th",
      "21st",
      "22nd",
      "101st",
      "111th",
    ]);
    expect(points(1234567)).toBe("1,234,567");
    expect(points(-1500)).toBe("-1,500");
    expect(plural(1, "player")).toBe("1 player");
    expect(plural(1200, "player")).toBe("1,200 players");
    expect(optionLetter(5)).toBe("F");
    expect(endReasonText("host_ended")).toBe("The host ended the game.");
  });

  it("draws a QR code as rectangles inside a quiet zone", () => {
    const m = {
      size: 3,
      get: (r: number, c: number) =>
        [
          [1, 1, 0],
          [0, 0, 0],
          [1, 0, 1],
        ][r]?.[c] ?? 0,
    };
    expect(qrPath(m, 1)).toBe("M1 1h2v1h-2zM1 3h1v1h-1zM3 3h1v1h-1z");
    expect(qrViewSize(m, 1)).toBe(5);
    const real = create("http://192.168.1.20:8080/play?pin=482913", {
      errorCorrectionLevel: "M",
    }).modules;
    const path = qrPath(real);
    expect(qrViewSize(real)).toBe(real.size + 8);
    // Every dark module is drawn exactly once.
    let dark = 0;
    for (let r = 0; r < real.size; r++)
      for (let c = 0; c < real.size; c++) dark += real.get(r, c) ? 1 : 0;
    const drawn = [...path.matchAll(/h(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(drawn).toBe(dark);
  });
});
