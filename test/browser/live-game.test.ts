import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  createGame,
  joinAs,
  LAPTOP,
  overflowsHorizontally,
  PHONE,
  PROJECTOR,
  playerScore,
  screenshots,
  useHarness,
} from "./support.js";

const QUIZ = {
  id: "browser-live",
  title: "Browser quiz",
  description: "One question of every kind.",
  questions: [
    { kind: "single", text: "What is 2 + 2?", options: ["3", "4", "5", "22"], correct: [1] },
    {
      kind: "multiple",
      text: "Which of these are prime numbers?",
      options: ["2", "4", "5", "9"],
      correct: [0, 2],
    },
    { kind: "true_false", text: "The Sun is a star.", correct_answer: "true" },
    { kind: "typed", text: "What is the capital of France?", accepted: ["Paris"] },
  ],
};

browserDescribe("web app: a live game in the browser", () => {
  const h = useHarness(QUIZ);

  it("a host and three players play a whole live game through the UI", {
    timeout: 180_000,
  }, async () => {
    const shot = screenshots("live-game");

    // The host finds the quiz in the library and sets up a live game.
    const host = await h.page(LAPTOP);
    await host.goto("/");
    await expect.poll(() => host.getByRole("heading", { name: "Browser quiz" }).count()).toBe(1);
    await shot(host, "host-library");
    await host.getByRole("link", { name: "Host Browser quiz" }).click();
    await host.getByRole("heading", { name: "Host “Browser quiz”" }).waitFor();
    await host.getByRole("radio", { name: /^Live/ }).check();
    await shot(host, "host-setup");

    // The lobby: a big PIN, the join link and its QR code.
    const pin = await createGame(host);
    expect(pin).toMatch(/^[1-9]\d{5}$/);
    expect(await host.getByTestId("join-url").getAttribute("href")).toMatch(
      new RegExp(`/play\\?pin=${pin}$`),
    );
    await host.getByTestId("join-qr").waitFor();
    await shot(host, "host-lobby-empty");

    // A projector watches the same game read-only.
    const screen = await h.page(PROJECTOR);
    await screen.goto(`/screen?pin=${pin}`);
    await screen.getByTestId("big-screen").waitFor();

    // Three players on phones: two follow the QR link, one types the PIN.
    const ann = await h.page(PHONE);
    const ben = await h.page(PHONE);
    const cyd = await h.page(PHONE);
    await joinAs(ann, pin, "Ann", "link");
    await shot(ann, "player-lobby");
    await joinAs(ben, pin, "Ben", "typed");
    await joinAs(cyd, pin, "Cyd", "link");
    const players = [ann, ben, cyd];

    const roster = host.getByTestId("roster");
    for (const name of ["Ann", "Ben", "Cyd"]) await roster.getByText(name).waitFor();
    await expect.poll(() => host.getByTestId("player-count").innerText()).toBe("3 players");
    await screen.getByTestId("roster").getByText("Cyd").waitFor();
    await shot(host, "host-lobby-full");
    await shot(screen, "screen-lobby");

    await host.getByTestId("start-game").click();

    // Question 1 (single choice): Ann and Ben right, Cyd wrong.
    await host.getByTestId("host-question").getByText("What is 2 + 2?").waitFor();
    for (const p of players) await p.getByRole("heading", { name: "What is 2 + 2?" }).waitFor();
    await shot(host, "host-question-1");
    await shot(ann, "player-question-1");
    expect(await overflowsHorizontally(ann)).toBe(false);
    await answerButton(ann, "4").click();
    await ann.getByTestId("answer-sent").waitFor();
    await expect.poll(() => host.getByTestId("answered-count").innerText()).toBe("1 of 3 answered");
    await shot(ann, "player-answered-1");
    await answerButton(ben, "4").click();
    await answerButton(cyd, "3").click();

    await host.getByTestId("host-reveal").waitFor();
    await expect.poll(() => host.getByTestId("correct-answer").innerText()).toContain("4");
    await host.getByTestId("answer-bars").waitFor();
    await shot(host, "host-reveal-1");
    await screen.getByTestId("answer-bars").waitFor();
    await shot(screen, "screen-reveal-1");
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    await cyd.getByRole("heading", { name: "Wrong" }).waitFor();
    await shot(ann, "player-correct-1");
    await shot(cyd, "player-wrong-1");
    expect(await overflowsHorizontally(cyd)).toBe(false);
    expect(await playerScore(ann)).toBeGreaterThan(0);
    expect(await playerScore(cyd)).toBe(0);

    await host.getByTestId("show-scoreboard").click();
    await host.getByTestId("scoreboard").getByText("Ann").waitFor();
    await shot(host, "host-scoreboard-1");
    await host.getByTestId("next-question").click();

    // Question 2 (multiple select): Ann and Cyd pick both primes, Ben only one.
    for (const p of players)
      await p.getByRole("heading", { name: "Which of these are prime numbers?" }).waitFor();
    for (const p of [ann, cyd]) {
      await answerButton(p, "2").click();
      await answerButton(p, "5").click();
      await expect.poll(() => answerButton(p, "5").getAttribute("aria-pressed")).toBe("true");
      await p.getByRole("button", { name: "Submit answer" }).click();
    }
    await shot(ann, "player-multiple-2");
    await answerButton(ben, "2").click();
    await ben.getByRole("button", { name: "Submit answer" }).click();
    await host.getByTestId("host-reveal").waitFor();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    await ben.getByRole("heading", { name: "Wrong" }).waitFor();
    await host.getByTestId("next-question").click();

    // Question 3 (true/false).
    for (const p of players) await p.getByRole("heading", { name: "The Sun is a star." }).waitFor();
    await answerButton(ann, "True").click();
    await answerButton(ben, "False").click();
    await answerButton(cyd, "True").click();
    await host.getByTestId("host-reveal").waitFor();
    await shot(host, "host-reveal-3");
    await host.getByTestId("next-question").click();

    // Question 4 (typed): case is forgiven.
    for (const p of players)
      await p.getByRole("heading", { name: "What is the capital of France?" }).waitFor();
    await shot(host, "host-question-4-typed");
    const typed: Array<[typeof ann, string]> = [
      [ann, "paris"],
      [ben, "Paris"],
      [cyd, "Lyon"],
    ];
    for (const [p, text] of typed) {
      await p.getByLabel("Your answer").fill(text);
      await p.getByRole("button", { name: "Submit answer" }).click();
    }
    await shot(ann, "player-typed-4");
    await host.getByTestId("host-reveal").waitFor();
    await expect.poll(() => host.getByTestId("correct-answer").innerText()).toContain("Paris");
    await ben.getByRole("heading", { name: "Correct!" }).waitFor();
    await cyd.getByRole("heading", { name: "Wrong" }).waitFor();

    // The last reveal's button ends the game: podium, full results, CSV.
    await expect.poll(() => host.getByTestId("next-question").innerText()).toContain("podium");
    await host.getByTestId("next-question").click();
    await host.getByTestId("podium").waitFor();
    await host.getByTestId("results-table").waitFor();
    await shot(host, "host-end");
    const rows = host.getByTestId("results-table").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.first().locator("th").innerText()).toContain("Ann");

    const csvHref = await host.getByTestId("results-csv").getAttribute("href");
    expect(csvHref).toMatch(/^\/api\/v1\/sessions\/[^/]+\/results\.csv$/);
    const csv = await host.request.get(csvHref ?? "");
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toMatch(/^text\/csv/);
    const csvText = await csv.text();
    expect(csvText.split("\n")[0]).toContain("rank");
    expect(csvText).toContain("Cyd");

    // Every player sees their final rank; Ann, right four times, won.
    for (const p of players) await p.getByTestId("player-end").waitFor();
    await expect.poll(() => ann.getByTestId("final-rank").innerText()).toMatch(/1st of 3/);
    await shot(ann, "player-end");
    await shot(ben, "player-end-ben");
    await screen.getByTestId("podium").waitFor();
    await shot(screen, "screen-end");
    expect(await overflowsHorizontally(ann)).toBe(false);
    expect(await overflowsHorizontally(screen)).toBe(false);

    // The scores the players saw are the ones the results report.
    const hostScores = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        name: tr.querySelector("th")?.textContent ?? "",
        score: Number((tr.querySelectorAll("td")[1]?.textContent ?? "").replace(/\D/g, "")),
      })),
    );
    for (const [p, name] of [
      [ann, "Ann"],
      [ben, "Ben"],
      [cyd, "Cyd"],
    ] as const) {
      const row = hostScores.find((r) => r.name.startsWith(name));
      expect(row?.score).toBe(await playerScore(p));
    }

    expect(h.problems).toEqual([]);
  });
});
