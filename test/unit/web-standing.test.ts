import { describe, expect, it } from "vitest";
import { standingLine } from "../../web/src/lib/standing.js";

const row = (rank: number, name: string, score: number) => ({
  participant_id: `p_${name}`,
  user_id: `u_${name}`,
  name,
  score,
  rank,
});
const board = [row(1, "Ana", 2120), row(2, "Ben", 2000), row(3, "Cy", 2000), row(4, "Dee", 10)];
const you = (name: string) => {
  const r = board.find((s) => s.name === name)!;
  return { participant_id: r.participant_id, rank: r.rank, score: r.score };
};

describe("web standing line: where the player stands after a question", () => {
  it("names the player just above and the gap", () => {
    expect(standingLine(board, you("Ben"), 4)).toBe("2nd place, 120 points behind Ana");
    expect(standingLine(board, you("Dee"), 4)).toBe("4th place, 1,990 points behind Cy");
  });

  it("the leader hears the lead over the second", () => {
    expect(standingLine(board, you("Ana"), 4)).toBe("1st place, 120 points ahead of Ben");
  });

  it("a tie on points says so (L-2: who reached it first ranks higher)", () => {
    expect(standingLine(board, you("Cy"), 4)).toBe(
      "3rd place, level on points with Ben (who got there first)",
    );
  });

  it("one point is a point; a lone player is the only one", () => {
    const ben = { participant_id: "p_Ben", rank: 2, score: 10 };
    expect(standingLine([row(1, "Ana", 11), row(2, "Ben", 10)], ben, 2)).toBe(
      "2nd place, 1 point behind Ana",
    );
    expect(standingLine([row(1, "Ana", 5)], you("Ana"), 1)).toBe("1st place — the only player");
  });

  it("outside the published top of the board: the place and how many play", () => {
    expect(standingLine(board, { participant_id: "p_far", rank: 40, score: 0 }, 57)).toBe(
      "40th place of 57",
    );
    expect(standingLine(board, { participant_id: "p_x", rank: null, score: 0 }, 57)).toBe("");
  });
});
