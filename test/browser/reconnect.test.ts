import type { WebSocketRoute } from "playwright-core";
import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  hostGame,
  joinAndStart,
  PHONE,
  playerScore,
  screenshots,
  useHarness,
} from "./support.js";

const QUIZ = {
  id: "browser-reload",
  title: "Reload quiz",
  questions: [
    {
      text: "First: pick Apple",
      options: ["Apple", "Banana"],
      correct: [0],
      time_limit_ms: 60_000,
    },
    {
      text: "Second: pick Cherry",
      options: ["Cherry", "Date"],
      correct: [0],
      time_limit_ms: 60_000,
    },
    { text: "Third: pick Elder", options: ["Elder", "Fig"], correct: [0], time_limit_ms: 60_000 },
  ],
};

browserDescribe("web app: refreshes and lost connections", () => {
  const h = useHarness(QUIZ);

  it("a player who reloads mid-question is back in the same game with the same score; so is the host", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("reload");
    const { host, pin } = await hostGame(h, QUIZ.id);
    const ann = await h.page(PHONE);
    const ben = await h.page(PHONE);
    await joinAndStart(host, pin, [
      [ann, "Ann"],
      [ben, "Ben"],
    ]);

    await ann.getByRole("heading", { name: "First: pick Apple" }).waitFor();
    await answerButton(ann, "Apple").click();
    await answerButton(ben, "Banana").click();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    const afterFirst = await playerScore(ann);
    expect(afterFirst).toBeGreaterThan(0);

    // The host's page reloads during the reveal and comes back to the same game.
    await host.reload();
    await host.getByTestId("host-reveal").waitFor();
    await shot(host, "host-after-reload");
    await host.getByTestId("next-question").click();

    // Ann reloads while the second question is open.
    await ann.getByRole("heading", { name: "Second: pick Cherry" }).waitFor();
    await shot(ann, "before-reload");
    await ann.reload();
    await ann.getByRole("heading", { name: "Second: pick Cherry" }).waitFor();
    await expect.poll(() => ann.getByTestId("player-name").innerText()).toBe("Ann");
    await expect.poll(() => playerScore(ann)).toBe(afterFirst);
    await shot(ann, "after-reload");
    await answerButton(ann, "Cherry").click();
    await ann.getByTestId("answer-sent").waitFor();

    // Reloading after answering shows the answer as sent, not the buttons again.
    await ann.reload();
    await ann.getByTestId("answer-sent").waitFor();
    await shot(ann, "after-reload-answered");
    await answerButton(ben, "Date").click();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    await expect.poll(() => playerScore(ann)).toBeGreaterThan(afterFirst);
    const afterSecond = await playerScore(ann);

    // Still two players, not three: the reload took the same seat.
    await expect.poll(() => host.getByText("2 players").count()).toBeGreaterThan(0);
    await host.getByTestId("next-question").click();
    await ann.getByRole("heading", { name: "Third: pick Elder" }).waitFor();
    await answerButton(ann, "Elder").click();
    await answerButton(ben, "Elder").click();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    await host.getByTestId("next-question").click();
    await ann.getByTestId("player-end").waitFor();
    await expect.poll(() => ann.getByTestId("final-rank").innerText()).toMatch(/1st of 2/);
    expect(await playerScore(ann)).toBeGreaterThan(afterSecond);
    await shot(ann, "end");
    expect(h.problems).toEqual([]);
  });

  it("a player whose connection drops sees “connection lost, retrying” and comes back with the same score", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("connection-lost");
    const { host, pin } = await hostGame(h, QUIZ.id);

    // Ann's socket goes through a switch the test controls.
    const ann = await h.page(PHONE);
    let offline = false;
    const open: WebSocketRoute[] = [];
    await ann.routeWebSocket(/\/ws\/v1/, (ws) => {
      if (offline) {
        void ws.close({ code: 4000, reason: "test: offline" });
        return;
      }
      ws.connectToServer();
      open.push(ws);
    });
    const ben = await h.page(PHONE);
    await joinAndStart(host, pin, [
      [ann, "Ann"],
      [ben, "Ben"],
    ]);

    await ann.getByRole("heading", { name: "First: pick Apple" }).waitFor();
    await answerButton(ann, "Apple").click();
    await answerButton(ben, "Apple").click();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    const before = await playerScore(ann);
    await host.getByTestId("next-question").click();
    await ann.getByRole("heading", { name: "Second: pick Cherry" }).waitFor();

    // The network goes away: the banner says so in words, and the page stays.
    offline = true;
    for (const ws of open.splice(0)) await ws.close({ code: 4000, reason: "test: offline" });
    const banner = ann.getByTestId("connection-banner");
    await expect.poll(() => banner.innerText()).toMatch(/Connection lost/);
    expect(await banner.getAttribute("role")).toBe("status");
    await shot(ann, "connection-lost");
    await ann.getByRole("heading", { name: "Second: pick Cherry" }).waitFor();

    // The network comes back: the SDK reconnects, resumes the seat, the banner goes.
    offline = false;
    await expect.poll(() => banner.innerText(), { timeout: 20_000 }).toBe("");
    expect(await playerScore(ann)).toBe(before);
    await shot(ann, "reconnected");
    await answerButton(ann, "Cherry").click();
    await answerButton(ben, "Date").click();
    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    await expect.poll(() => playerScore(ann)).toBeGreaterThan(before);
    // Still two players: the reconnect took the same seat.
    await expect.poll(() => host.getByText("2 players").count()).toBeGreaterThan(0);
    expect(h.problems).toEqual([]);
  });
});
