/**
 * Feedback that feels like a game (issue 12): balanced answer layouts on the host's screen, the
 * phone filled with each result and where the player stands, lobby names readable from the
 * back, the podium building up third → second → first (and not at all with reduced motion),
 * and a one-player podium that still looks like one.
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  createGame,
  joinAndStart,
  LAPTOP,
  PHONE,
  PROJECTOR,
  screenshots,
  useHarness,
} from "./support.js";

const opts = (n: number) => ["Apple", "Banana", "Cherry", "Damson", "Elder", "Fig"].slice(0, n);
const LAYOUTS = {
  id: "browser-layouts",
  title: "Layouts",
  questions: [4, 2, 3, 5, 6].map((n) => ({
    kind: "single",
    text: `Which fruit comes first? (${n} answers)`,
    options: opts(n),
    correct: [0],
    time_limit_ms: 60_000,
  })),
};
const TYPED = {
  id: "browser-typed",
  title: "Typed",
  questions: [
    {
      kind: "typed",
      text: "What is the capital of France?",
      accepted: ["Paris"],
      time_limit_ms: 60_000,
    },
  ],
};
const SOLO = {
  id: "browser-solo",
  title: "Solo",
  questions: [{ kind: "true_false", text: "Water is wet.", correct_answer: "true" }],
};

/** How the host's answer boxes sit: the number of boxes in each row, top to bottom. */
async function rows(host: Page): Promise<{ counts: number[]; widthsEqual: boolean }> {
  return host.locator(".big-option").evaluateAll((els) => {
    const boxes = els.map((e) => e.getBoundingClientRect());
    const tops = [...new Set(boxes.map((b) => Math.round(b.top)))].sort((a, b) => a - b);
    const counts = tops.map((t) => boxes.filter((b) => Math.round(b.top) === t).length);
    const widthsEqual = tops.every((t) => {
      const w = boxes.filter((b) => Math.round(b.top) === t).map((b) => Math.round(b.width));
      return w.every((x) => Math.abs(x - (w[0] ?? 0)) <= 1);
    });
    return { counts, widthsEqual };
  });
}

async function background(page: Page): Promise<string> {
  return page.getByTestId("player-reveal").evaluate((e) => getComputedStyle(e).backgroundColor);
}

/** Whether `testId`'s box reaches the bottom of the phone's screen (less the page's 1rem margin). */
async function reachesBottom(page: Page, testId: string): Promise<boolean> {
  return page.getByTestId(testId).evaluate((e) => {
    const r = e.getBoundingClientRect();
    return r.bottom >= window.innerHeight - 17 && r.height > window.innerHeight / 2;
  });
}

browserDescribe("web app: feedback that feels like a game", () => {
  const h = useHarness(LAYOUTS, SOLO, TYPED);

  it("balanced answer layouts at 1280 px, full-screen results on the phones, a podium that builds up", {
    timeout: 180_000,
  }, async () => {
    const shot = screenshots("game-feel");
    const host = await h.page(LAPTOP);
    await host.goto(`/quiz/${LAYOUTS.id}/start`);
    await host.getByRole("radio", { name: /^Live/ }).check();
    const pin = await createGame(host);
    // The projector wants motion: it shows the podium build up.
    const screenContext = await h.context({ ...PROJECTOR, reducedMotion: "no-preference" });
    const screen = await screenContext.newPage();
    await screen.goto(`/screen?pin=${pin}`);
    await screen.getByTestId("big-screen").waitFor();

    const ann = await h.page(PHONE);
    const ben = await h.page(PHONE);
    const cyd = await h.page(PHONE);
    for (const [p, name] of [
      [ann, "Ann"],
      [ben, "Ben"],
      [cyd, "Cyd"],
    ] as const) {
      await p.goto(`/play?pin=${pin}`);
      await p.getByRole("textbox", { name: "Nickname" }).fill(name);
      await p.getByRole("button", { name: "OK, go!" }).click();
      await p.getByTestId("player-lobby").waitFor();
    }
    // Names in the lobby are big enough to read from the back of a room.
    const roster = host.getByTestId("roster");
    await roster.getByText("Cyd").waitFor();
    const nameSize = await roster
      .locator(".roster-name")
      .first()
      .evaluate((e) => Number.parseFloat(getComputedStyle(e).fontSize));
    expect(nameSize).toBeGreaterThanOrEqual(24);
    await shot(host, "host-lobby-1280");
    await joinAndStart(host, pin, []);

    // Question 1, four answers: two rows of two on the laptop.
    await host.getByTestId("host-question").waitFor();
    expect(await rows(host)).toEqual({ counts: [2, 2], widthsEqual: true });
    await shot(host, "host-question-4-answers-1280");
    // The phone's answers fill its height.
    await ann.getByTestId("player-question").waitFor();
    expect(await reachesBottom(ann, "player-question")).toBe(true);
    await shot(ann, "phone-question");

    // Ann is right, Ben wrong, Cyd lets the time run out (the host skips).
    await answerButton(ann, "Apple").click();
    await answerButton(ben, "Banana").click();
    await ann.getByText("Answer locked in!").waitFor();
    await ben.getByText("Answer locked in!").waitFor();
    await host.getByTestId("skip-question").click();

    await ann.getByRole("heading", { name: "Correct!" }).waitFor();
    expect(await background(ann)).toBe("rgb(31, 122, 52)");
    expect(await reachesBottom(ann, "player-reveal")).toBe(true);
    const annPoints = Number(
      (await ann.getByTestId("player-points").innerText()).replace(/\D/g, ""),
    );
    expect(annPoints).toBeGreaterThan(0);
    await expect
      .poll(() => ann.getByTestId("player-rank").innerText())
      .toMatch(new RegExp(`^1st place, ${annPoints.toLocaleString("en-US")} points ahead of Ben`));
    await shot(ann, "phone-result-right");

    await ben.getByRole("heading", { name: "Wrong" }).waitFor();
    expect(await background(ben)).toBe("rgb(180, 35, 24)");
    await expect
      .poll(() => ben.getByTestId("player-rank").innerText())
      .toMatch(new RegExp(`^2nd place, ${annPoints.toLocaleString("en-US")} points behind Ann`));
    await ben.getByText("Correct answer: Apple").waitFor();
    await shot(ben, "phone-result-wrong");

    await cyd.getByRole("heading", { name: "Time's up!" }).waitFor();
    expect(await cyd.getByTestId("player-reveal").getAttribute("data-outcome")).toBe("none");
    await shot(cyd, "phone-result-time-up");

    // Two, three, five and six answers: balanced rows, never one left alone.
    const expected: Record<number, number[]> = { 2: [2], 3: [3], 5: [3, 2], 6: [3, 3] };
    for (const n of [2, 3, 5, 6]) {
      await host.getByTestId("next-question").click();
      await host
        .getByRole("heading", { name: `Which fruit comes first? (${n} answers)` })
        .waitFor();
      expect(await rows(host), `${n} answers`).toEqual({
        counts: expected[n],
        widthsEqual: true,
      });
      await shot(host, `host-question-${n}-answers-1280`);
      if (n === 2) {
        // Ann's second right answer in a row: her streak shows.
        await answerButton(ann, "Apple").click();
        await ann.getByText("Answer locked in!").waitFor();
        await host.getByTestId("skip-question").click();
        await ann.getByTestId("player-streak").getByText("Answer streak: 2").waitFor();
        await shot(ann, "phone-result-streak");
      } else {
        await host.getByTestId("skip-question").click();
      }
      await host.getByTestId("host-reveal").waitFor();
    }

    // The end: on the host (reduced motion) the podium stands at once, without animation; on
    // the projector (motion allowed) it rises third, then second, then first.
    await host.getByTestId("next-question").click();
    const podium = host.getByTestId("podium");
    await podium.waitFor();
    const hostAnimations = await podium
      .locator(".podium-step")
      .evaluateAll((els) => els.map((e) => e.getAnimations().length));
    expect(hostAnimations).toEqual([0, 0, 0]);
    await shot(host, "host-podium");

    const screenPodium = screen.getByTestId("podium");
    await screenPodium.waitFor();
    const delays = await screenPodium
      .locator(".podium-step")
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((e) => [
            Array.from(e.classList).find((c) => /^podium-\d$/.test(c)),
            Number(e.getAnimations()[0]?.effect?.getTiming().delay ?? -1),
          ]),
        ),
      );
    expect(delays["podium-3"]).toBeGreaterThanOrEqual(0);
    expect(delays["podium-2"]).toBeGreaterThan(delays["podium-3"] ?? 0);
    expect(delays["podium-1"]).toBeGreaterThan(delays["podium-2"] ?? 0);
    // Once built, all three stand.
    await expect
      .poll(
        () =>
          screenPodium
            .locator(".podium-step")
            .evaluateAll((els) => els.map((e) => getComputedStyle(e).opacity)),
        { timeout: 10_000 },
      )
      .toEqual(["1", "1", "1"]);
    await shot(screen, "screen-podium");
  });

  it("a one-player podium: one step, its usual size, centred, with its medal", {
    timeout: 90_000,
  }, async () => {
    const shot = screenshots("game-feel-solo");
    const host = await h.page(LAPTOP);
    await host.goto(`/quiz/${SOLO.id}/start`);
    await host.getByRole("radio", { name: /^Live/ }).check();
    const pin = await createGame(host);
    const solo = await h.page(PHONE);
    await joinAndStart(host, pin, [[solo, "Solo"]]);
    await answerButton(solo, "True").click();
    await solo.getByRole("heading", { name: "Correct!" }).waitFor();
    await expect
      .poll(() => solo.getByTestId("player-rank").innerText())
      .toMatch(/^1st place — the only player/);
    await host.getByTestId("next-question").click();
    const podium = host.getByTestId("podium");
    await podium.waitFor();
    const geometry = await podium.evaluate((list) => {
      const steps = Array.from(list.querySelectorAll(".podium-step")).map((e) =>
        e.getBoundingClientRect(),
      );
      const box = list.getBoundingClientRect();
      return {
        steps: steps.length,
        width: Math.round(steps[0]?.width ?? 0),
        offCentre: Math.abs(
          (steps[0]?.left ?? 0) + (steps[0]?.width ?? 0) / 2 - (box.left + box.width / 2),
        ),
      };
    });
    expect(geometry.steps).toBe(1);
    expect(geometry.width).toBeLessThanOrEqual(14 * 16);
    expect(geometry.offCentre).toBeLessThanOrEqual(2);
    await podium.locator(".medal-1").waitFor();
    await shot(host, "host-podium-one-player");
  });

  it("a typed-answer reveal says how many were right and shows the most common answers", {
    timeout: 90_000,
  }, async () => {
    const shot = screenshots("game-feel-typed");
    const host = await h.page(LAPTOP);
    await host.goto(`/quiz/${TYPED.id}/start`);
    await host.getByRole("radio", { name: /^Live/ }).check();
    const pin = await createGame(host);
    const players = [await h.page(PHONE), await h.page(PHONE), await h.page(PHONE)];
    await joinAndStart(host, pin, [
      [players[0]!, "Ann"],
      [players[1]!, "Ben"],
      [players[2]!, "Cyd"],
    ]);
    for (const [i, text] of ["paris", "Paris ", "Lyon"].entries()) {
      const p = players[i]!;
      await p.getByLabel("Your answer").fill(text);
      await p.getByRole("button", { name: "Submit answer" }).click();
    }
    const reveal = host.getByTestId("typed-reveal");
    await reveal.waitFor();
    await expect
      .poll(() => reveal.locator(".typed-right").innerText())
      .toBe("2 of 3 players got it right");
    const top = await reveal
      .getByRole("list", { name: "Most common answers" })
      .locator("li")
      .evaluateAll((els) =>
        els.map((e) => [
          e.querySelector(".typed-text")?.textContent,
          e.querySelector(".typed-count")?.firstChild?.textContent,
          e.className,
        ]),
      );
    expect(top).toEqual([
      ["paris", "2", "typed-ok"],
      ["Lyon", "1", "typed-no"],
    ]);
    await shot(host, "host-typed-reveal");
  });
});
