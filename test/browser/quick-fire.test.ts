import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  createGame,
  joinAndStart,
  overflowsHorizontally,
  PHONE,
  screenshots,
  useHarness,
} from "./support.js";

const QUIZ = {
  id: "browser-quick",
  title: "Quick quiz",
  questions: [
    { text: "Fastest: pick Gold", options: ["Gold", "Silver", "Bronze"], correct: [0] },
    { text: "Again: pick Iron", options: ["Tin", "Iron"], correct: [1] },
  ],
};

browserDescribe("web app: quick fire, hosted from a phone", () => {
  const h = useHarness(QUIZ);

  it("T-4: the first correct answer closes the question for everyone and the game runs by itself", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("quick-fire");
    // The host runs the game from a 360 px phone.
    const host = await h.page(PHONE);
    await host.goto("/quiz/browser-quick/start");
    await host.getByRole("radio", { name: /^Quick fire/ }).check();
    await expect.poll(() => host.getByLabel("Seconds per question").inputValue()).toBe("15");
    // A short timer, so the second question runs out.
    await host.getByLabel("Seconds per question").fill("6");
    expect(await overflowsHorizontally(host)).toBe(false);
    await shot(host, "host-setup-phone");
    const pin = await createGame(host);
    expect(await overflowsHorizontally(host)).toBe(false);
    await shot(host, "host-lobby-phone");

    const ann = await h.page(PHONE);
    const ben = await h.page(PHONE);
    await joinAndStart(host, pin, [
      [ann, "Ann"],
      [ben, "Ben"],
    ]);

    await ben.getByRole("heading", { name: "Fastest: pick Gold" }).waitFor();
    await ann.getByRole("heading", { name: "Fastest: pick Gold" }).waitFor();
    await answerButton(ann, "Gold").click();
    // Ben never got to answer: the question closed for him too.
    await ben.getByRole("heading", { name: /^Too slow!/ }).waitFor();
    await shot(ben, "closed-by-first-correct");
    await host.getByTestId("host-reveal").waitFor();
    expect(await overflowsHorizontally(host)).toBe(false);
    await shot(host, "host-reveal-phone");

    // The reveal moves on by itself. Ben answers wrong; Ann lets the time run out.
    await ann.getByRole("heading", { name: "Again: pick Iron" }).waitFor();
    await ben.getByRole("heading", { name: "Again: pick Iron" }).waitFor();
    await answerButton(ben, "Tin").click();
    await ben.getByTestId("answer-sent").waitFor();
    await ann.getByRole("heading", { name: "Time's up!" }).waitFor();
    await shot(ann, "time-up");
    await ben.getByRole("heading", { name: "Wrong" }).waitFor();

    // And after the last reveal the game ends by itself.
    await ann.getByTestId("player-end").waitFor();
    await expect.poll(() => ann.getByTestId("final-rank").innerText()).toMatch(/1st of 2/);
    await host.getByTestId("podium").waitFor();
    expect(await overflowsHorizontally(host)).toBe(false);
    await shot(host, "host-end-phone");
    expect(h.problems).toEqual([]);
  });
});
