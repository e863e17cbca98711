import { describe, expect, it } from "vitest";
import { clientValidators, envelopeValidator } from "../../src/doors/canonical/protocol.js";

describe("canonical message validation at the edge", () => {
  it("accepts a well-formed envelope and rejects every malformed one", () => {
    expect(envelopeValidator.Check({ v: 1, type: "ping", msg_id: "1", data: {} })).toBe(true);
    expect(envelopeValidator.Check({ v: 1, type: "ping", msg_id: "1" })).toBe(true);
    for (const bad of [
      null,
      [],
      "ping",
      { type: "ping", msg_id: "1", data: {} },
      { v: 2, type: "ping", msg_id: "1", data: {} },
      { v: 1, msg_id: "1", data: {} },
      { v: 1, type: "ping", data: {} },
      { v: 1, type: "ping", msg_id: "", data: {} },
      { v: 1, type: "ping", msg_id: "x".repeat(65), data: {} },
      { v: 1, type: "ping", msg_id: 7, data: {} },
      { v: 1, type: "ping", msg_id: "1", data: [] },
      { v: 1, type: "ping", msg_id: "1", data: "x" },
    ]) {
      expect(envelopeValidator.Check(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("checks each message's data: types, ranges, lengths, unknown fields", () => {
    const join = clientValidators.join;
    expect(join.Check({ pin: "482913", display_name: "Ann" })).toBe(true);
    expect(join.Check({ resume_token: "abcdefghijkl" })).toBe(true);
    expect(join.Check({ pin: 482913, display_name: "Ann" })).toBe(false);
    expect(join.Check({ pin: "48291", display_name: "Ann" })).toBe(false);
    expect(join.Check({ pin: "482913", display_name: "" })).toBe(false);
    expect(join.Check({ pin: "482913", display_name: "Ann", admin: true })).toBe(false);

    const answer = clientValidators.answer;
    expect(answer.Check({ index: 0, choice: 1 })).toBe(true);
    expect(answer.Check({ index: 0, choices: [0, 2] })).toBe(true);
    expect(answer.Check({ index: 0, text: "ephemeral" })).toBe(true);
    expect(answer.Check({ index: -1, choice: 1 })).toBe(false);
    expect(answer.Check({ index: "0", choice: 1 })).toBe(false);
    expect(answer.Check({ index: 0, choice: 1.5 })).toBe(false);
    expect(answer.Check({ index: 0, choices: [] })).toBe(false);
    expect(answer.Check({ index: 0, text: "x".repeat(201) })).toBe(false);

    expect(clientValidators.lock.Check({ locked: "yes" })).toBe(false);
    expect(clientValidators.kick.Check({ participant_id: "p_1", reason: "x".repeat(201) })).toBe(
      false,
    );
    expect(clientValidators.start.Check({ force: true })).toBe(false);
    expect(
      clientValidators.create_room.Check({
        quiz_id: "q",
        settings: { scoring: { policy: "latency", alpha: 2 } },
      }),
    ).toBe(false);
    expect(
      clientValidators.create_room.Check({
        quiz_id: "q",
        mode: "quick_fire",
        settings: {
          scoring: { policy: "latency", alpha: 1.2, base_points: 500 },
          question_time_ms: 5000,
        },
      }),
    ).toBe(true);
  });
});
