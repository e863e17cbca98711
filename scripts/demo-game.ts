/**
 * A whole live game against a running quizwire, with the client SDK: a host
 * and three players, every question answered, scores and the leaderboard
 * printed as the server pushes them, the results downloaded at the end.
 *
 *   npm start            # in one terminal
 *   npm run demo         # in another
 *
 * QUIZWIRE_URL=http://host:port points it elsewhere; ADMIN_TOKEN is sent when the server needs
 * it to read the quiz's answers; DEMO_PACE=0.1 plays ten times faster; the first argument is
 * another quiz id.
 *
 * The players know some answers and not others, as people do: Ann knows most of them, Bob about
 * half, Cyd a few (the same ones on every run). To know them, the script reads the quiz with its
 * answers over REST (an admin call); the server still judges every answer itself.
 */
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import type { ServerData } from "../src/sdk/index.js";
import { QuizwireClient, type QuizwireClientOptions } from "../src/sdk/index.js";

const base = (process.env.QUIZWIRE_URL ?? "http://localhost:8080").replace(/\/+$/, "");
const wsUrl = `${base.replace(/^http/, "ws")}/ws/v1`;
const quizId = process.argv[2] ?? "general-knowledge";
const pace = Number(process.env.DEMO_PACE ?? "1") > 0 ? Number(process.env.DEMO_PACE ?? "1") : 1;
const ms = (n: number) => Math.round(n * pace);

/** Who plays, how often they know the answer, and how long they take to answer. */
const PLAYERS = [
  { name: "Ann", knows: 0.85, thinkMs: 900 },
  { name: "Bob", knows: 0.55, thinkMs: 1600 },
  { name: "Cyd", knows: 0.3, thinkMs: 2300 },
] as const;

/** The quiz's answers, as GET /api/v1/quizzes/{id}?answers=true gives them. */
interface AnswerKey {
  correct?: number[];
  accepted?: string[];
}

type Question = ServerData<"question">["question"];
type Answer = { choice: number } | { choices: number[] } | { text: string };

function client(): QuizwireClient {
  return new QuizwireClient({
    url: wsUrl,
    WebSocket: WebSocket as unknown as QuizwireClientOptions["WebSocket"],
  });
}

async function answerKeys(): Promise<AnswerKey[] | null> {
  const headers: Record<string, string> = {};
  if (process.env.ADMIN_TOKEN) headers.authorization = `Bearer ${process.env.ADMIN_TOKEN}`;
  const res = await fetch(`${base}/api/v1/quizzes/${encodeURIComponent(quizId)}?answers=true`, {
    headers,
  });
  if (!res.ok) return null;
  return ((await res.json()) as { questions: AnswerKey[] }).questions;
}

/** The same few questions known on every run: a small hash of the player and the question. */
function knows(player: number, index: number, share: number): boolean {
  const h = Math.imul((player + 1) * 2654435761, index + 7) >>> 0;
  return (h % 1000) / 1000 < share;
}

/** What a player answers: the right answer when they know it, a plausible wrong one otherwise. */
function pick(q: Question, key: AnswerKey | undefined, known: boolean): Answer {
  if (q.kind === "typed") {
    const right = key?.accepted?.[0];
    return { text: known && right ? right : "no idea" };
  }
  const correct = key?.correct ?? [];
  const wrong = q.options.map((_, i) => i).filter((i) => !correct.includes(i));
  if (q.kind === "multiple") {
    return { choices: known && correct.length > 0 ? correct : [wrong[0] ?? 0] };
  }
  return { choice: known && correct[0] !== undefined ? correct[0] : (wrong[0] ?? 0) };
}

/** An answer in words: the option texts or the typed text. */
function words(q: Question, a: Answer): string {
  if ("text" in a) return `“${a.text}”`;
  const picked = "choice" in a ? [a.choice] : a.choices;
  return picked.map((i) => q.options[i] ?? `#${i}`).join(" + ");
}

async function main(): Promise<void> {
  const keys = await answerKeys();
  if (!keys) {
    console.log(
      "(Could not read the quiz's answers — set ADMIN_TOKEN if the server has one. The players guess.)\n",
    );
  }
  const host = client();
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: Math.max(ms(8000), 2000) },
  });
  console.log(`Room ${room.roomId}\nPIN ${room.pin}   join link ${room.joinUrl}\n`);

  const players = PLAYERS.map(() => client());
  for (const [i, p] of players.entries()) {
    await p.connect();
    await p.join({ pin: room.pin, displayName: PLAYERS[i]!.name });
    console.log(`${PLAYERS[i]!.name} joined`);
  }
  console.log("");

  const finished = new Promise<ServerData<"end">>((resolve) => host.on("end", (d) => resolve(d)));
  host.on("reveal", (r) => {
    const counts =
      r.option_counts.length > 0 ? `   answers per option: ${r.option_counts.join(" / ")}` : "";
    console.log(`  correct answer: ${r.correct.texts.join(" / ")}${counts}`);
    console.log(
      `  leaderboard: ${r.leaderboard.map((s) => `${s.rank}. ${s.name} ${s.score}`).join("   ")}\n`,
    );
    setTimeout(() => void host.nextQuestion(), ms(2000));
  });
  for (const [i, p] of players.entries()) {
    const { name, knows: share, thinkMs } = PLAYERS[i]!;
    p.on("question", (q) => {
      if (i === 0) {
        const choices =
          q.question.kind === "typed" ? "(type the answer)" : `[${q.question.options.join(" | ")}]`;
        console.log(`Q${q.index + 1}/${q.total}: ${q.question.text}  ${choices}`);
      }
      const answer = pick(q.question, keys?.[q.index], knows(i, q.index, share));
      // Faster players think less, so speed shows in the points.
      setTimeout(() => {
        p.answer(q.index, answer).then(
          (s) =>
            console.log(
              `  ${name} answered ${words(q.question, answer)}: ${s.correct ? "right" : "wrong"}, +${s.points} → ${s.score}${s.streak > 1 ? ` (streak ${s.streak})` : ""}`,
            ),
          (e: unknown) => console.log(`  ${name}: ${(e as Error).message}`),
        );
      }, ms(thinkMs));
    });
  }

  await host.start();
  const end = await finished;
  console.log(`Podium: ${end.podium.map((s) => `${s.rank}. ${s.name} (${s.score})`).join("   ")}`);

  const csv = await fetch(`${base}/api/v1/sessions/${room.roomId}/results.csv`);
  // The bytes as sent: text() would drop the byte-order mark that spreadsheets need.
  writeFileSync("results.csv", Buffer.from(await csv.arrayBuffer()));
  console.log(
    `\nResults written to results.csv (also at ${base}/api/v1/sessions/${room.roomId}/results)`,
  );
  for (const c of [host, ...players]) c.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
