import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/*
 * Big seed 001 sessions (docs/protocols/seed-001.md, "Big sessions"): above a configured size,
 * USER_JOINED / USER_LEFT and the self-paced board batch are grouped per interval of the
 * server's clock. The thresholds are made small here so a few hundred clients are "big"; time
 * is a FakeClock the test moves. The client side is written from seed 001 alone: raw sockets on
 * /ws?user_id=…, JSON envelopes, fetch for REST.
 */

interface SeedMessage {
  type: string;
  payload: Record<string, unknown>;
  message_id?: string;
}

interface Board {
  leaderboard: Array<{ rank: number; user_id: string; username: string; score: number }>;
  your_rank: number | null;
  total_participants: number;
}

/** A seed 001 client that keeps every message and waits for the first one (from `from`) matching. */
class Client {
  readonly messages: SeedMessage[] = [];
  private waiters: Array<{ from: number; match: (m: SeedMessage) => boolean; done: () => void }> =
    [];
  private conditions: Array<{ holds: () => boolean; done: () => void }> = [];

  private constructor(
    readonly id: string,
    readonly ws: WebSocket,
  ) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as SeedMessage;
      this.messages.push(m);
      const at = this.messages.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (at < w.from || !w.match(m)) return true;
        w.done();
        return false;
      });
      this.conditions = this.conditions.filter((w) => {
        if (!w.holds()) return true;
        w.done();
        return false;
      });
    });
  }

  static async connect(wsBase: string, id: string): Promise<Client> {
    const ws = new WebSocket(`${wsBase}/ws?user_id=${id}`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new Client(id, ws);
  }

  send(type: string, payload: unknown): void {
    this.ws.send(JSON.stringify({ type, payload }));
  }

  /** The first message at or after index `from` that matches, already here or still to come. */
  wait(match: (m: SeedMessage) => boolean, from = 0): Promise<SeedMessage> {
    const seen = this.messages.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = {
        from,
        match,
        done: () => resolve(this.messages.slice(from).find(match) as SeedMessage),
      };
      this.waiters.push(w);
    });
  }

  /** Resolves once `holds` is true, checked now and after each message. */
  until(holds: () => boolean): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((done) => this.conditions.push({ holds, done }));
  }

  /** Sends a message and waits for its reply type (or an ERROR). */
  async call(type: string, payload: unknown, reply: string): Promise<SeedMessage> {
    const from = this.messages.length;
    this.send(type, payload);
    return this.wait((m) => m.type === reply || m.type === "ERROR", from);
  }

  /** Everything sent before a PONG has arrived: a barrier, not a sleep. */
  async drained(): Promise<void> {
    await this.call("PING", {}, "PONG");
  }

  count(type: string): number {
    return this.messages.filter((m) => m.type === type).length;
  }
}

const ANNOUNCE_ABOVE = 20;
const BOARDS_ABOVE = 5;
const INTERVAL_MS = 1_000;
/** The learners of the boards test: a session above BOARDS_ABOVE. */
const BOARD_LEARNERS = BOARDS_ABOVE + 5;

let t: TestApp;
let clock: FakeClock;
let base: string;
let wsBase: string;
const clients: Client[] = [];
let counter = 0;

beforeAll(async () => {
  clock = new FakeClock(Date.UTC(2026, 0, 1));
  t = await createTestApp(
    {},
    {
      clock,
      vocabularyLimits: {
        announceAbove: ANNOUNCE_ABOVE,
        announceIntervalMs: INTERVAL_MS,
        boardsAbove: BOARDS_ABOVE,
        // The boards' interval comes from the session's size: 10 learners wait INTERVAL_MS, well
        // below the cap, so a board held for the cap (or not held) fails the test.
        boardMsPerParticipant: INTERVAL_MS / BOARD_LEARNERS,
        boardIntervalMaxMs: 5 * INTERVAL_MS,
      },
    },
  );
  const port = await t.app.listen();
  base = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const c of clients) c.ws.close();
  await t.close();
});

/** A real turn of the event loop: what the server deferred (its events, timers armed) runs. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Moves the fake clock in 10 ms steps, letting the server run between steps (a room arms its
 * batch timer after the answers' replies are out), until `done` holds or `ms` have passed.
 */
async function step(ms: number, done: () => boolean = () => false): Promise<void> {
  for (let passed = 0; passed < ms && !done(); passed += 10) {
    clock.advance(10);
    await turn();
  }
}

async function post(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function session(maxParticipants: number): Promise<string> {
  const quizId = `scale-${++counter}`;
  await post("/api/v1/quizzes", {
    id: quizId,
    title: "Scale",
    questions: ["q1", "q2", "q3"].map((id) => ({
      id,
      text: `Question ${id}`,
      options: ["right", "wrong"],
      correct_answer: "right",
      points: 10,
    })),
  });
  const created = await post("/api/v1/sessions", {
    quiz_id: quizId,
    max_participants: maxParticipants,
    // A lobby: the test starts it once everyone is in (else the first join would, M-4).
    start_time: null,
  });
  return created.session_id as string;
}

async function connect(n: number, prefix: string): Promise<Client[]> {
  const out = await Promise.all(
    Array.from({ length: n }, (_, i) => Client.connect(wsBase, `${prefix}-${counter}-${i}`)),
  );
  clients.push(...out);
  return out;
}

async function joinAll(cs: Client[], sid: string): Promise<void> {
  const replies = await Promise.all(
    cs.map((c) => c.call("JOIN_SESSION", { session_id: sid, username: c.id }, "SESSION_JOINED")),
  );
  for (const r of replies) expect(r.type).toBe("SESSION_JOINED");
}

describe("seed 001 big sessions: announcements", () => {
  it("below the threshold every arrival is announced to everyone else, one message each", async () => {
    const sid = await session(100);
    const cs = await connect(ANNOUNCE_ABOVE, "small");
    for (const c of cs) {
      await c.call("JOIN_SESSION", { session_id: sid, username: c.id }, "SESSION_JOINED");
    }
    await Promise.all(cs.map((c) => c.drained()));
    // The k-th arrival reaches the k-1 before it: everyone hears of everyone after them.
    cs.forEach((c, i) => {
      const joined = c.messages.filter((m) => m.type === "USER_JOINED");
      expect(joined.map((m) => m.payload.user_id)).toEqual(cs.slice(i + 1).map((x) => x.id));
      expect(joined.every((m) => m.payload.batch_size === undefined)).toBe(true);
    });
  });

  it("a join storm of 300 costs O(N) USER_JOINED in total, and the count ends right", async () => {
    const n = 300;
    const sid = await session(1_000);
    const cs = await connect(n, "storm");
    await joinAll(cs, sid);
    // The interval ends: whatever arrivals were held go out as one USER_JOINED.
    clock.advance(INTERVAL_MS);
    await Promise.all(
      cs.map(async (c) => {
        const joined = c.messages.find((m) => m.type === "SESSION_JOINED");
        if (joined?.payload.participant_count === n) return;
        await c.wait((m) => m.type === "USER_JOINED" && m.payload.participant_count === n);
      }),
    );
    await Promise.all(cs.map((c) => c.drained()));

    const total = cs.reduce((sum, c) => sum + c.count("USER_JOINED"), 0);
    // Ungrouped this is n(n-1)/2 = 44,850. Grouped: at most the announceAbove arrivals one by
    // one (each to those before it), then one message at once and one per interval to everyone.
    const ungroupedPart = (ANNOUNCE_ABOVE * (ANNOUNCE_ABOVE - 1)) / 2;
    expect(total).toBeLessThanOrEqual(ungroupedPart + 2 * n);
    // Everyone knows the final count: from the last USER_JOINED, or (the latest arrival, who is
    // not told about themselves) from SESSION_JOINED.
    for (const c of cs) {
      const last = [...c.messages]
        .reverse()
        .find((m) => m.type === "USER_JOINED" || m.type === "SESSION_JOINED");
      expect(last?.payload.participant_count).toBe(n);
    }
    // The grouped message names the latest arrival and how many it stands for.
    const grouped = cs
      .flatMap((c) => c.messages)
      .filter((m) => m.type === "USER_JOINED" && m.payload.participant_count === n);
    expect(grouped.length).toBeGreaterThan(0);
    for (const m of grouped) {
      expect(typeof m.payload.user_id).toBe("string");
      expect(typeof m.payload.username).toBe("string");
    }
  });

  it("USER_LEFT is grouped the same way above the threshold", async () => {
    // Twenty above it: ten leave, and the count (of who is still here) stays above.
    const n = ANNOUNCE_ABOVE + 20;
    const sid = await session(1_000);
    const cs = await connect(n, "leave");
    await joinAll(cs, sid);
    clock.advance(INTERVAL_MS);
    await Promise.all(cs.map((c) => c.drained()));
    const leavers = cs.slice(0, 10);
    const stayers = cs.slice(10);
    await Promise.all(
      leavers.map((c) => c.call("LEAVE_SESSION", { session_id: sid }, "SESSION_LEFT")),
    );
    clock.advance(INTERVAL_MS);
    const departures = (c: Client) =>
      c.messages
        .filter((m) => m.type === "USER_LEFT")
        .reduce((sum, m) => sum + ((m.payload.batch_size as number | undefined) ?? 1), 0);
    await Promise.all(stayers.map((c) => c.until(() => departures(c) >= 10)));
    await Promise.all(stayers.map((c) => c.drained()));
    // Ten departures: one at once, the other nine together when the interval ends.
    for (const c of stayers) {
      const left = c.messages.filter((m) => m.type === "USER_LEFT");
      expect(left.length).toBeLessThanOrEqual(2);
      expect(departures(c)).toBe(10);
      expect(left.at(-1)?.payload.participant_count).toBe(n - 10);
    }
  });
});

describe("seed 001 big sessions: boards", () => {
  it("within one interval everyone gets one board and the latest at its end; a learner whose answer scored also gets each held board that first shows it, at once (seed §7.2 step 12)", async () => {
    const n = BOARD_LEARNERS;
    const sid = await session(100);
    const cs = await connect(n, "board");
    await joinAll(cs, sid);
    const started = cs.map((c) => c.wait((m) => m.type === "SESSION_STARTED"));
    await post(`/api/v1/sessions/${sid}/start`);
    await Promise.all(started);
    const from = cs.map((c) => c.messages.length);
    const broadcastBoards = (c: Client, i: number) =>
      c.messages
        .slice(from[i])
        .filter((m) => m.type === "LEADERBOARD_UPDATED" && m.message_id === undefined)
        .map((m) => m.payload as unknown as Board);
    const ownScore = (board: Board | undefined, c: Client) =>
      board?.leaderboard.find((e) => e.user_id === c.id)?.score;

    // Three answer batches, each closed by the room's own 100 ms window, all within one interval.
    // Learner i gets question q right when i % 4 > q, so the scores differ, and after the first
    // batch learners with i % 4 = 2 or 3 still score (question 2), and only i % 4 = 3 at question 3.
    const scores = new Map<string, number>();
    const scoredAt = (i: number, q: number) => i % 4 > q;
    const deliveredBefore = await boardsDelivered();
    for (const [q, question] of ["q1", "q2", "q3"].entries()) {
      const replies = await Promise.all(
        cs.map((c, i) =>
          c.call(
            "SUBMIT_ANSWER",
            {
              session_id: sid,
              question_id: question,
              answer: scoredAt(i, q) ? "right" : "wrong",
              time_taken_ms: 1000,
            },
            "SCORE_UPDATED",
          ),
        ),
      );
      replies.forEach((r, i) => {
        expect(r.type).toBe("SCORE_UPDATED");
        scores.set(cs[i]?.id ?? "", r.payload.new_score as number);
      });
      // The boards each learner should hold once this batch is out: the first batch after a quiet
      // interval goes to everyone at once; later ones, held back, only to those they show scoring.
      const expected = cs.map((_c, i) => 1 + [1, 2].filter((b) => b <= q && scoredAt(i, b)).length);
      // Time stops once the batch reached a learner it should: the rest is real delivery.
      await step(200, () =>
        cs.some((c, i) => broadcastBoards(c, i).length >= (expected[i] ?? 0) && scoredAt(i, q)),
      );
      await Promise.all(
        cs.map((c, i) => c.until(() => broadcastBoards(c, i).length >= (expected[i] ?? 0))),
      );
      await Promise.all(cs.map((c) => c.drained()));
      for (const [i, c] of cs.entries()) {
        const boards = broadcastBoards(c, i);
        expect(boards).toHaveLength(expected[i] ?? -1);
        // A board a learner got at once shows their own new score.
        if (scoredAt(i, q)) expect(ownScore(boards.at(-1), c)).toBe(scores.get(c.id));
      }
    }
    const heldBefore = cs.map((c, i) => broadcastBoards(c, i).length);

    // The interval ends: the latest board goes to everyone (those who scored in the last batch
    // already had it, and it replaces itself).
    await step(INTERVAL_MS, () =>
      cs.some((c, i) => broadcastBoards(c, i).length > (heldBefore[i] ?? 0)),
    );
    await Promise.all(
      cs.map((c, i) => c.until(() => broadcastBoards(c, i).length > (heldBefore[i] ?? 0))),
    );
    await Promise.all(cs.map((c) => c.drained()));
    for (const [i, c] of cs.entries()) {
      const boards = broadcastBoards(c, i);
      expect(boards).toHaveLength((heldBefore[i] ?? 0) + 1);
      const board = boards.at(-1) as Board;
      expect(board.total_participants).toBe(n);
      expect(Object.fromEntries(board.leaderboard.map((e) => [e.user_id, e.score]))).toEqual(
        Object.fromEntries(scores),
      );
      const mine = board.leaderboard.find((e) => e.user_id === c.id);
      expect(board.your_rank).toBe(mine?.rank);
    }
    // leaderboard_update_latency_seconds timed each of the room's three batches and the board
    // the interval held back, once each (the first batch's board to everyone is the batch's own).
    expect((await boardsDelivered()) - deliveredBefore).toBe(4);
  });
});

/** How many leaderboard updates the server has timed (`leaderboard_update_latency_seconds_count`). */
async function boardsDelivered(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("leaderboard_update_latency_seconds_count "));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}
