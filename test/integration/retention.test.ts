import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryPinDirectory } from "../../src/adapters/memory/memory-pin-directory.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { hashToken } from "../../src/auth/token-hash.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { resolveSettings } from "../../src/domain/session-settings.js";
import { GroupCommitter } from "../../src/engine/group-committer.js";
import { RoomRegistry } from "../../src/engine/room-registry.js";
import type { JoinResult } from "../../src/engine/types.js";
import type { PurgeResult, Storage } from "../../src/ports/storage.js";
import { RetentionSweeper } from "../../src/services/retention.js";
import { eventually } from "../support/eventually.js";
import { hostActor, playerActor, quizOf, threeQuestions } from "../support/fixtures.js";

/*
 * Seed 001 §12.4 ("Session data TTL (auto-delete after 24 hours)") and seed 003 §12.6 ("Completed
 * Sessions: 90 days"): the sweep runs on the injected clock against a real database, and what it
 * deletes is what a later load no longer finds.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let storages: Storage[] = [];
let sweepers: RetentionSweeper[] = [];
afterEach(async () => {
  for (const s of sweepers) await s.shutdown();
  for (const s of storages) await s.close();
  storages = [];
  sweepers = [];
});

/** A real (in-memory SQLite) database with one self-paced session played and ended at `clock`'s now. */
async function endedSession(clock: FakeClock) {
  const storage = await openSqliteStorage({ path: ":memory:" });
  storages.push(storage);
  const committer = new GroupCommitter(
    { write: (b) => storage.sessions.write(b), ping: () => storage.ping() },
    clock,
  );
  let n = 0;
  const registry = new RoomRegistry({
    storage,
    committer,
    clock,
    random: new SeededRandom(1),
    pins: new MemoryPinDirectory(),
    hashToken,
    newSessionId: () => `0190f5a8-0000-7000-8000-${String(++n).padStart(12, "0")}`,
    onError: (err) => {
      throw err;
    },
    endedRetentionMs: 0,
  });
  const { runtime } = await registry.create({
    quiz: quizOf(threeQuestions()),
    settings: resolveSettings("self_paced", { startOnJoin: true }),
    hostUserId: hostActor.userId,
    hostName: "Host",
  });
  const ann = playerActor("ann");
  const joined = await runtime.execute(ann, { type: "join", name: "ann" });
  if (!joined.ok) throw new Error(joined.error.msg);
  const bound = { ...ann, participantId: (joined.value as JoinResult).participantId };
  for (let i = 0; i < 3; i++) {
    const r = await runtime.execute(bound, {
      type: "answer",
      target: { index: i },
      answer: { kind: "choice", index: 0 },
    });
    expect(r.ok).toBe(true);
  }
  await runtime.execute(hostActor, { type: "end" });
  await committer.idle();
  await registry.shutdown();
  return { storage, id: runtime.id };
}

describe("data retention of ended sessions (seed 001 §12.4, seed 003 §12.6)", () => {
  it("a sweep every hour on the clock: answers go 24 h after the end, the whole session after 90 days", async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const { storage, id } = await endedSession(clock);
    const endedAt = clock.now();
    const swept: PurgeResult[] = [];
    const sweeper = new RetentionSweeper({
      sessions: storage.sessions,
      clock,
      settings: { hotDataMs: DAY, completedMs: 90 * DAY, intervalMs: HOUR },
      onSwept: (r) => swept.push(r),
      onError: (err) => {
        throw err;
      },
    });
    sweepers.push(sweeper);
    sweeper.start();
    await eventually("the first sweep", () => swept.length >= 1);
    expect((await storage.sessions.load(id))?.answers).toHaveLength(3);

    // Just before 24 h nothing is gone; the sweep after it takes the answers, not the session.
    clock.advance(DAY - 1);
    await eventually("sweeps up to 24 h", () => swept.length >= 24);
    await sweeper.sweep();
    expect((await storage.sessions.load(id))?.answers).toHaveLength(3);
    clock.advance(HOUR + 1);
    await eventually("the sweep after 24 h", () =>
      swept.some((r) => r.answersDeleted === 3 && r.sessionsDeleted === 0),
    );
    const kept = await storage.sessions.load(id);
    expect(kept?.answers).toStrictEqual([]);
    expect(kept?.participants.find((p) => p.name === "ann")?.score).toBeGreaterThan(0);
    expect(kept?.standings).toHaveLength(1);

    // 90 days after the end the session itself goes.
    clock.advance(endedAt + 90 * DAY + HOUR - clock.now());
    await eventually("the sweep after 90 days", () => swept.some((r) => r.sessionsDeleted === 1));
    expect(await storage.sessions.load(id)).toBeUndefined();
  });

  it("with both retentions off (0 in the configuration) nothing is scheduled and nothing goes", async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const { storage, id } = await endedSession(clock);
    const sweeper = new RetentionSweeper({
      sessions: storage.sessions,
      clock,
      settings: { hotDataMs: null, completedMs: null, intervalMs: HOUR },
      onError: (err) => {
        throw err;
      },
    });
    sweepers.push(sweeper);
    sweeper.start();
    expect(sweeper.enabled).toBe(false);
    expect(clock.pending).toBe(0);
    clock.advance(365 * DAY);
    expect((await storage.sessions.load(id))?.answers).toHaveLength(3);
  });
});
