/**
 * A whole live game against a running quizwire, with the client SDK: a host
 * and three players, every question answered, scores and the leaderboard
 * printed as the server pushes them, the results downloaded at the end.
 *
 *   npm start            # in one terminal
 *   npm run demo         # in another (QUIZWIRE_URL=http://host:port to point elsewhere)
 */
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import type { ServerData } from "../src/sdk/index.js";
import { QuizwireClient, type QuizwireClientOptions } from "../src/sdk/index.js";

const base = (process.env.QUIZWIRE_URL ?? "http://localhost:8080").replace(/\/+$/, "");
const wsUrl = `${base.replace(/^http/, "ws")}/ws/v1`;
const quizId = process.argv[2] ?? "general-knowledge";

function client(): QuizwireClient {
  return new QuizwireClient({
    url: wsUrl,
    WebSocket: WebSocket as unknown as QuizwireClientOptions["WebSocket"],
  });
}

/** Each player answers differently: Ann picks the first option, Bob the second, Cyd the last. */
function pick(name: string, q: ServerData<"question">["question"]) {
  if (q.kind === "typed") return { text: name === "Ann" ? "Paris" : "I don't know" };
  const i = name === "Ann" ? 0 : name === "Bob" ? 1 : q.options.length - 1;
  return q.kind === "multiple" ? { choices: [i] } : { choice: i };
}

async function main(): Promise<void> {
  const host = client();
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: 8000 },
  });
  console.log(`Room ${room.roomId}\nPIN ${room.pin}   join link ${room.joinUrl}\n`);

  const names = ["Ann", "Bob", "Cyd"];
  const players = names.map(() => client());
  for (const [i, p] of players.entries()) {
    await p.connect();
    await p.join({ pin: room.pin, displayName: names[i]! });
    console.log(`${names[i]} joined`);
  }

  const finished = new Promise<ServerData<"end">>((resolve) => host.on("end", (d) => resolve(d)));
  host.on("reveal", (r) => {
    console.log(
      `  correct: ${r.correct.texts.join(", ")}   answers per option: ${r.option_counts.join(" / ")}`,
    );
    console.log(
      `  leaderboard: ${r.leaderboard.map((s) => `${s.rank}. ${s.name} ${s.score}`).join("   ")}\n`,
    );
    // The host moves on two seconds after each reveal.
    setTimeout(() => void host.nextQuestion(), 2000);
  });
  for (const [i, p] of players.entries()) {
    const name = names[i]!;
    p.on("question", (q) => {
      if (i === 0)
        console.log(
          `Q${q.index + 1}/${q.total}: ${q.question.text}  [${q.question.options.join(" | ")}]`,
        );
      // Answer after a short, different delay each, so speed shows in the points.
      setTimeout(
        () => {
          p.answer(q.index, pick(name, q.question)).then(
            (s) =>
              console.log(`  ${name}: ${s.correct ? "right" : "wrong"}, +${s.points} → ${s.score}`),
            (e: unknown) => console.log(`  ${name}: ${(e as Error).message}`),
          );
        },
        300 + i * 700,
      );
    });
  }

  await host.start();
  const end = await finished;
  console.log(`Podium: ${end.podium.map((s) => `${s.rank}. ${s.name} (${s.score})`).join("   ")}`);

  const csv = await fetch(`${base}/api/v1/sessions/${room.roomId}/results.csv`);
  writeFileSync("results.csv", await csv.text());
  console.log(
    `\nResults written to results.csv (also at ${base}/api/v1/sessions/${room.roomId}/results)`,
  );
  for (const c of [host, ...players]) c.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
