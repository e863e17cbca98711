import { afterEach, describe, expect, it } from "vitest";
import { resolveSettings } from "../../src/domain/session-settings.js";
import { hostActor, playerActor, quizOf, threeQuestions } from "../support/fixtures.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe("the composed app's session writes", () => {
  it("are fenced: once another instance has claimed a session, this one's writes for it are refused", async () => {
    t = await createTestApp();
    const { app } = t;
    const { runtime } = await app.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("live"),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    await app.committer.idle();
    const id = runtime.id;
    const epoch = runtime.room.currentEpoch;
    // What a new owner does before loading the session: move its epoch on.
    expect(await app.storage.sessions.claim(id, epoch, epoch + 1)).toBe(true);

    await runtime.execute(playerActor("ann"), { type: "join", name: "ann" });
    await app.committer.idle();

    const stored = await app.storage.sessions.load(id);
    expect(stored?.participants.map((p) => p.name)).toEqual(["Host"]);
  });
});
