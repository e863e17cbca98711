/**
 * A seed 001 join storm against a running quizwire: N learners connect to /ws,
 * all JOIN_SESSION one self-paced session (at most C joins in flight), and the
 * script prints how long the storm took, the JOIN → SESSION_JOINED latency and
 * how many USER_JOINED frames the learners received in total. Not a test: it
 * prints numbers.
 *
 *   PORT=8080 DATA_DIR=$(mktemp -d) npx tsx src/main.ts      # one terminal
 *   npx tsx scripts/seed001-join-storm.ts 2000 50             # another: N, C
 *   QUIZWIRE_URL=http://127.0.0.1:8081 npx tsx scripts/seed001-join-storm.ts 2000
 *   npx tsx scripts/seed001-join-storm.ts 2000 50 2500 5   # then start, 5 answers each (vocab-101)
 *
 * With a fifth argument K the session is started after the storm and every
 * learner answers vocab-101's first K questions correctly, one every 0.5–1.5 s;
 * the script then prints the LEADERBOARD_UPDATED broadcasts received per
 * learner per second and their bytes.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const base = (process.env.QUIZWIRE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const wsBase = base.replace(/^http/, "ws");
const n = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 50);
const settleMs = Number(process.argv[4] ?? 2500);
const answers = Number(process.argv[5] ?? 0);
const VOCAB_101 = ["elated", "modern", "reduce", "the vocabulary of a language", "courageous"];

const created = (await fetch(`${base}/api/v1/sessions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  // start_time null: a lobby, started below once everyone is in (else the first join starts it).
  body: JSON.stringify({ quiz_id: "vocab-101", max_participants: n + 10, start_time: null }),
}).then((r) => r.json())) as { session_id: string };
const sid = created.session_id;
const run = Date.now().toString(36);

let userJoined = 0;
let userJoinedBytes = 0;
let otherFrames = 0;
let boards = 0;
let boardBytes = 0;
const latencies: number[] = [];
const sockets: WebSocket[] = [];

async function learner(i: number): Promise<void> {
  const ws = new WebSocket(`${wsBase}/ws?user_id=storm-${run}-${i}`);
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const joined = new Promise<void>((resolve) => {
    ws.on("message", (data: Buffer) => {
      const text = String(data);
      if (text.startsWith('{"type":"USER_JOINED"')) {
        userJoined += 1;
        userJoinedBytes += data.length;
      } else if (
        text.startsWith('{"type":"LEADERBOARD_UPDATED"') &&
        !text.includes('"message_id"')
      ) {
        boards += 1;
        boardBytes += data.length;
      } else {
        otherFrames += 1;
        if (text.startsWith('{"type":"SESSION_JOINED"') || text.startsWith('{"type":"ERROR"'))
          resolve();
      }
    });
  });
  const t0 = performance.now();
  ws.send(JSON.stringify({ type: "JOIN_SESSION", payload: { session_id: sid } }));
  await joined;
  latencies.push(performance.now() - t0);
}

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < n) await learner(next++);
  }),
);
const storm = performance.now() - started;
// Grouped announcements go out at the end of their interval: let the last one arrive.
await new Promise((r) => setTimeout(r, settleMs));
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(
  JSON.stringify({
    learners: n,
    concurrency,
    stormMs: Math.round(storm),
    joinP50Ms: Math.round(pct(0.5) ?? 0),
    joinP99Ms: Math.round(pct(0.99) ?? 0),
    userJoinedFrames: userJoined,
    userJoinedMB: +(userJoinedBytes / 1e6).toFixed(1),
    otherFrames,
  }),
);

if (answers > 0) {
  await fetch(`${base}/api/v1/sessions/${sid}/start`, { method: "POST" });
  boards = 0;
  boardBytes = 0;
  const t0 = performance.now();
  await Promise.all(
    sockets.map(async (ws) => {
      for (let q = 0; q < answers; q++) {
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
        ws.send(
          JSON.stringify({
            type: "SUBMIT_ANSWER",
            payload: {
              session_id: sid,
              question_id: `q${q + 1}`,
              answer: VOCAB_101[q % VOCAB_101.length],
              time_taken_ms: 1000,
            },
          }),
        );
      }
    }),
  );
  await new Promise((r) => setTimeout(r, settleMs));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      answering: { answersEach: answers, seconds: +seconds.toFixed(1) },
      boardsPerLearnerPerSecond: +(boards / n / seconds).toFixed(2),
      boardKBPerLearnerPerSecond: +(boardBytes / n / seconds / 1000).toFixed(1),
      boardMBPerSecondTotal: +(boardBytes / seconds / 1e6).toFixed(1),
      avgBoardBytes: Math.round(boardBytes / Math.max(1, boards)),
    }),
  );
}
for (const ws of sockets) ws.terminate();
