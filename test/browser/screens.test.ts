/**
 * Screens that must not break at ordinary sizes (issue 12): the host's results at 1280 px, the
 * library's list of hosted games once one has ended, the big screen with a PIN that cannot be
 * one, and the reveal chart with answers of different lengths.
 */
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import {
  browserDescribe,
  createGame,
  joinAndStart,
  LAPTOP,
  overflowsHorizontally,
  PHONE,
  PROJECTOR,
  screenshots,
  useHarness,
} from "./support.js";

const QUESTIONS = 20;
const WIDE = {
  id: "browser-wide",
  title: "Twenty questions",
  questions: Array.from({ length: QUESTIONS }, (_, i) => ({
    kind: "single",
    text: `Question number ${i + 1}: which letter?`,
    options: ["Alpha", "Bravo", "Charlie", "Delta"],
    correct: [i % 4],
  })),
};

const UNEVEN = {
  id: "browser-uneven",
  title: "Uneven answers",
  questions: [
    {
      kind: "single",
      text: "Which one is the longest answer?",
      options: [
        "Short",
        "A rather long answer that has to wrap onto several lines in its bar label",
        "Mid-sized answer",
        "No",
      ],
      correct: [1],
      time_limit_ms: 60_000,
    },
  ],
};

type Json = Record<string, unknown>;

async function rest(baseUrl: string, method: string, path: string, body?: Json, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text === "" ? {} : JSON.parse(text)) as Json;
}

/** The room id of the game open in the host's console (/host/{roomId}). */
function roomIdOf(host: Page): string {
  const id = new URL(host.url()).pathname.split("/").pop();
  if (!id) throw new Error(`no room id in ${host.url()}`);
  return id;
}

browserDescribe("web app: screens that must not break", () => {
  const h = useHarness(WIDE, UNEVEN);

  it("host results at 1280 px: all 20 question columns reachable, no sideways page scroll; the ended game is listed as finished", {
    timeout: 150_000,
  }, async () => {
    const shot = screenshots("screens-results");
    const host = await h.page(LAPTOP);
    await host.goto(`/quiz/${WIDE.id}/start`);
    await host.getByRole("radio", { name: /^Self-paced/ }).check();
    await createGame(host);
    const roomId = roomIdOf(host);

    // Three players play all twenty questions at their own pace, over REST (what the browser
    // shows is the point here, not how they answered).
    const names = ["Zoë Ångström", "Bartholomew", "Cy"];
    const players: Array<{ resume_token: string }> = [];
    for (const name of names) {
      players.push(
        (await rest(h.baseUrl, "POST", `/api/v1/sessions/${roomId}/participants`, {
          display_name: name,
        })) as { resume_token: string },
      );
    }
    await host.getByTestId("roster").getByText("Cy").waitFor();
    await host.getByTestId("start-game").click();
    await host.getByTestId("self-paced-board").waitFor();
    for (const [p, player] of players.entries()) {
      for (let q = 0; q < QUESTIONS; q++) {
        // Player 0 knows everything, player 1 every other answer, player 2 nothing.
        const right = p === 0 || (p === 1 && q % 2 === 0);
        await rest(
          h.baseUrl,
          "POST",
          `/api/v1/sessions/${roomId}/answers`,
          { question_index: q, choice: right ? q % 4 : (q + 1) % 4 },
          player.resume_token,
        );
      }
    }
    await host.getByTestId("end-game").click();
    await host.getByRole("button", { name: "End now" }).click();
    const table = host.getByTestId("results-table");
    await table.waitFor();

    // Nothing spills sideways: the page is exactly as wide as the window.
    expect(await overflowsHorizontally(host)).toBe(false);
    const scroller = host.getByTestId("results-scroll");
    const box = await scroller.boundingBox();
    if (!box) throw new Error("the results table is not on screen");
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    await shot(host, "host-results-1280");

    // Every question column can be brought into view inside the table, without moving the page.
    for (let q = 1; q <= QUESTIONS; q++) {
      const head = table.locator("thead th", { hasText: new RegExp(`^Q${q}$`) });
      await head.scrollIntoViewIfNeeded();
      const cell = await head.boundingBox();
      if (!cell) throw new Error(`Q${q} has no box`);
      expect(cell.x, `Q${q} starts inside the table`).toBeGreaterThanOrEqual(box.x - 1);
      expect(cell.x + cell.width, `Q${q} ends inside the table`).toBeLessThanOrEqual(
        box.x + box.width + 1,
      );
      expect(await host.evaluate(() => window.scrollX)).toBe(0);
    }
    // The names stay in view beside the last questions.
    const name = await table.getByRole("rowheader", { name: "Zoë Ångström" }).boundingBox();
    expect(name?.x ?? -1).toBeGreaterThanOrEqual(box.x - 1);
    await shot(host, "host-results-last-column");

    // The summary per player: correct count and average time.
    const first = table.locator("tbody tr").first();
    await expect
      .poll(() => first.innerText())
      .toMatch(/Zoë Ångström\s+[\d,]+\s+20\/20\s+\d+\.\d s/);

    // Back in the library, the game is among the finished ones, not the running ones.
    await host.goto("/");
    const finished = host.getByTestId("finished-games");
    await finished.getByText("Twenty questions").waitFor();
    expect(await host.getByTestId("hosted-games").count()).toBe(0);
    expect(await finished.innerText()).not.toMatch(/\bLive\b/);
    await shot(host, "library-finished-game");
    await finished.getByRole("link", { name: /^Results of Twenty questions/ }).click();
    await host.getByTestId("results-table").waitFor();
  });

  it("a game that ended while the library was closed is listed as finished", {
    timeout: 90_000,
  }, async () => {
    const context = await h.context(LAPTOP);
    const host = await context.newPage();
    await host.goto(`/quiz/${WIDE.id}/start`);
    await host.getByRole("radio", { name: /^Self-paced/ }).check();
    await createGame(host);
    const roomId = roomIdOf(host);
    await host.goto("/");
    await host.getByTestId("hosted-games").getByText("Twenty questions").waitFor();
    expect(await host.getByTestId("hosted-games").innerText()).toMatch(/Self-paced game · PIN/);
    await host.close();

    // An administrator closes it (no ADMIN_TOKEN here: admin REST is open).
    await rest(h.baseUrl, "POST", `/api/v1/sessions/${roomId}/close`, {});
    const library = await context.newPage();
    await library.goto("/");
    await library.getByTestId("finished-games").getByText("Twenty questions").waitFor();
    expect(await library.getByTestId("hosted-games").count()).toBe(0);
  });

  it("the big screen says in words that a malformed PIN is not a PIN, as it does a wrong one", {
    timeout: 60_000,
  }, async () => {
    const shot = screenshots("screens-big-screen-pin");
    const screen = await h.page(PROJECTOR);
    await screen.goto("/screen?pin=12ab");
    await screen
      .getByText("“12ab” is not a game PIN. A game PIN is six digits, shown on the host's screen.")
      .waitFor();
    await shot(screen, "malformed-pin");
    await screen.goto("/screen?pin=999999");
    await screen.getByText(/There is no game with PIN 999999/).waitFor();
  });

  it("the reveal chart's columns line up whatever the answers' lengths", {
    timeout: 90_000,
  }, async () => {
    const shot = screenshots("screens-reveal");
    const host = await h.page(LAPTOP);
    await host.goto(`/quiz/${UNEVEN.id}/start`);
    await host.getByRole("radio", { name: /^Live/ }).check();
    const pin = await createGame(host);
    const ann = await h.page(PHONE);
    await joinAndStart(host, pin, [[ann, "Ann"]]);
    await host.getByTestId("host-question").waitFor();
    await host.getByTestId("skip-question").click();
    await host.getByTestId("host-reveal").waitFor();
    const bars = host.getByTestId("answer-bars");
    await bars.waitFor();
    await shot(host, "reveal-uneven-labels");

    const boxes = async (selector: string) =>
      bars.locator(selector).evaluateAll((els) =>
        els.map((e) => {
          const r = e.getBoundingClientRect();
          return { top: Math.round(r.top), bottom: Math.round(r.bottom) };
        }),
      );
    const tracks = await boxes(".bar-track");
    const labels = await boxes(".bar-label");
    expect(tracks).toHaveLength(4);
    // All four bars on one row at 1280 px, their tracks and labels level with each other.
    for (const list of [tracks, labels]) {
      for (const b of list) expect(b).toEqual(list[0]);
    }
  });
});
