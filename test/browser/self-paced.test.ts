import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  createGame,
  joinAndStart,
  LAPTOP,
  overflowsHorizontally,
  PHONE,
  PROJECTOR,
  playerScore,
  screenshots,
  useHarness,
} from "./support.js";

const VOCAB = {
  id: "browser-vocab",
  title: "Vocabulary sprint",
  questions: [
    {
      kind: "typed",
      text: "Translate: der Apfel",
      accepted: ["the apple", "apple"],
      time_limit_ms: 60_000,
    },
    {
      kind: "typed",
      text: "Translate: die Katze",
      accepted: ["the cat", "cat"],
      time_limit_ms: 60_000,
    },
    {
      kind: "single",
      text: "Which word means “happy”?",
      options: ["sad", "glad", "mad"],
      correct: [1],
      time_limit_ms: 60_000,
    },
  ],
};

browserDescribe("web app: a self-paced session", () => {
  const h = useHarness(VOCAB);

  it("learners work through typed questions on their own timers and watch a live leaderboard", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("self-paced");
    const host = await h.page(LAPTOP);
    await host.goto("/quiz/browser-vocab/start");
    await host.getByRole("radio", { name: /^Self-paced/ }).check();
    // Vocabulary scoring is the self-paced default.
    await expect.poll(() => host.getByLabel("How points are given").inputValue()).toBe("vocab");
    await shot(host, "host-setup");
    const pin = await createGame(host);

    const lea = await h.page(PHONE);
    const max = await h.page(PHONE);
    await joinAndStart(host, pin, [
      [lea, "Lea", "link"],
      [max, "Max", "typed"],
    ]);
    await host.getByTestId("self-paced-board").waitFor();

    // Each learner gets their own first question with their own countdown.
    for (const p of [lea, max]) {
      await p.getByRole("heading", { name: "Translate: der Apfel" }).waitFor();
      await p.getByTestId("countdown").waitFor();
    }
    await shot(lea, "question-1");

    // Lea answers; the correct answer and her points show at once.
    await lea.getByLabel("Your answer").fill("The Apple");
    await lea.getByRole("button", { name: "Submit answer" }).click();
    await lea.getByTestId("self-feedback").getByText("Correct!").waitFor();
    await shot(lea, "feedback-1");
    const leaFirst = await playerScore(lea);
    expect(leaFirst).toBeGreaterThan(0);

    // Max, still on question 1, sees Lea climb the live leaderboard.
    await max.getByTestId("live-board").getByText("Lea", { exact: true }).waitFor();
    await expect
      .poll(() => max.getByTestId("live-board").locator(".lb-row").first().innerText())
      .toMatch(/Lea/);
    await shot(max, "live-leaderboard");

    // Max gets it wrong and is shown the answer.
    await max.getByLabel("Your answer").fill("pear");
    await max.getByRole("button", { name: "Submit answer" }).click();
    await max.getByTestId("self-feedback").getByText("Not quite").waitFor();
    await expect.poll(() => max.getByTestId("self-feedback").innerText()).toContain("the apple");
    await shot(max, "feedback-wrong");

    // Lea goes on at her own pace to the end.
    await lea.getByTestId("next-question").click();
    await lea.getByRole("heading", { name: "Translate: die Katze" }).waitFor();
    await lea.getByLabel("Your answer").fill("cat");
    await lea.getByRole("button", { name: "Submit answer" }).click();
    await lea.getByTestId("self-feedback").getByText("Correct!").waitFor();
    await lea.getByTestId("next-question").click();
    await lea.getByRole("heading", { name: "Which word means “happy”?" }).waitFor();
    await answerButton(lea, "glad").click();
    await lea.getByTestId("self-feedback").getByText("Correct!").waitFor();
    await expect.poll(() => lea.getByTestId("next-question").innerText()).toBe("Finish");
    await lea.getByTestId("next-question").click();
    await lea.getByTestId("self-finished").waitFor();
    await shot(lea, "finished");
    expect(await overflowsHorizontally(lea)).toBe(false);

    // A latecomer joins by typing the PIN and starts at question 1.
    const zoe = await h.page(PHONE);
    await zoe.goto("/play");
    await zoe.getByLabel("Game PIN").fill(pin);
    await zoe.getByRole("button", { name: "Enter" }).click();
    await zoe.getByRole("textbox", { name: "Nickname" }).fill("Zoe");
    await zoe.getByRole("button", { name: "OK, go!" }).click();
    await zoe.getByRole("heading", { name: "Translate: der Apfel" }).waitFor();

    // Max's next answer moves him up; Lea's finished screen updates live.
    await max.getByTestId("next-question").click();
    await max.getByRole("heading", { name: "Translate: die Katze" }).waitFor();
    await max.getByLabel("Your answer").fill("the cat");
    await max.getByRole("button", { name: "Submit answer" }).click();
    await max.getByTestId("self-feedback").getByText("Correct!").waitFor();
    const maxScore = await playerScore(max);
    await expect
      .poll(() => lea.getByTestId("leaderboard").innerText())
      .toMatch(new RegExp(`Max\\s+${maxScore}`));

    // The host's board and a projector show everyone, live.
    await expect.poll(() => host.getByTestId("self-paced-board").innerText()).toMatch(/Max/);
    const screen = await h.page(PROJECTOR);
    await screen.goto(`/screen?pin=${pin}`);
    await screen.getByTestId("leaderboard").getByText("Lea", { exact: true }).waitFor();
    await shot(screen, "screen-live");
    await shot(host, "host-live");

    // The host ends the session; everyone sees their final rank.
    await host.getByTestId("end-game").click();
    await host.getByRole("button", { name: "End now" }).click();
    await host.getByTestId("podium").waitFor();
    await host.getByTestId("results-table").waitFor();
    await shot(host, "host-end");
    await lea.getByTestId("player-end").waitFor();
    await expect.poll(() => lea.getByTestId("final-rank").innerText()).toMatch(/1st of 3/);
    await max.getByTestId("player-end").waitFor();
    await expect.poll(() => max.getByTestId("final-rank").innerText()).toMatch(/2nd of 3/);
    await shot(max, "end");
    expect(h.problems).toEqual([]);
  });
});
