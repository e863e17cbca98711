import { expect, it } from "vitest";
import {
  browserDescribe,
  hostGame,
  joinAs,
  LAPTOP,
  PHONE,
  screenshots,
  useHarness,
} from "./support.js";

const QUIZ = {
  id: "browser-errors",
  title: "Errors quiz",
  questions: [{ text: "Pick one", options: ["One", "Two"], correct: [0], time_limit_ms: 60_000 }],
};

browserDescribe("web app: problems are shown in words", () => {
  const h = useHarness(QUIZ);

  it("wrong PIN, name taken, room locked and kicked each get a sentence, never a blank page", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("errors");
    const { host, pin } = await hostGame(h, "browser-errors");
    // A PIN no open room has: the real one with its first digit changed.
    const wrong = `${pin[0] === "9" ? "8" : "9"}${pin.slice(1)}`;

    const ann = await h.page(PHONE);
    await ann.goto("/play");
    await ann.getByLabel("Game PIN").fill("12");
    await ann.getByRole("button", { name: "Enter" }).click();
    await expect.poll(() => ann.getByTestId("join-error").innerText()).toMatch(/six digits/);
    await ann.getByLabel("Game PIN").fill(wrong);
    await ann.getByRole("button", { name: "Enter" }).click();
    await expect
      .poll(() => ann.getByTestId("join-error").innerText())
      .toBe(`There is no game with PIN ${wrong}. Check the number on the host's screen.`);
    await shot(ann, "wrong-pin");

    // Name taken.
    const ben = await h.page(PHONE);
    await joinAs(ben, pin, "Ben");
    await ann.getByLabel("Game PIN").fill(pin);
    await ann.getByRole("button", { name: "Enter" }).click();
    await ann.getByRole("textbox", { name: "Nickname" }).fill("ben");
    await ann.getByRole("button", { name: "OK, go!" }).click();
    await expect
      .poll(() => ann.getByTestId("join-error").innerText())
      .toMatch(/already called “ben”/);
    await shot(ann, "name-taken");

    // A generated name works.
    await ann.getByRole("button", { name: "Pick a name for me" }).click();
    const generated = await ann.getByRole("textbox", { name: "Nickname" }).inputValue();
    expect(generated).toMatch(/^\w+ \w+ \d{2}$/);
    await ann.getByRole("button", { name: "OK, go!" }).click();
    await ann.getByTestId("player-lobby").waitFor();
    await host.getByTestId("roster").getByText(generated).waitFor();

    // Locked room.
    await host.getByTestId("lock-room").click();
    await expect
      .poll(() => host.getByTestId("lock-room").getAttribute("aria-pressed"))
      .toBe("true");
    const cyd = await h.page(PHONE);
    await cyd.goto(`/play?pin=${pin}`);
    await expect
      .poll(() => cyd.getByTestId("join-error").innerText())
      .toBe("This game is locked: the host is not letting new players in.");
    await shot(cyd, "room-locked");
    await host.getByTestId("lock-room").click();
    await expect
      .poll(() => host.getByTestId("lock-room").getAttribute("aria-pressed"))
      .toBe("false");

    // Kicked: the player is told, and cannot come straight back.
    await host.getByRole("button", { name: "Remove Ben" }).click();
    await ben.getByTestId("player-gone").waitFor();
    await expect
      .poll(() => ben.getByRole("heading", { level: 1 }).innerText())
      .toBe("You were removed from the game");
    await shot(ben, "kicked");
    await expect.poll(() => host.getByTestId("roster").getByText("Ben").count()).toBe(0);
    await ben.getByRole("button", { name: "Join a game" }).click();
    await ben.getByLabel("Game PIN").fill(pin);
    await ben.getByRole("button", { name: "Enter" }).click();
    await ben.getByRole("textbox", { name: "Nickname" }).fill("Ben again");
    await ben.getByRole("button", { name: "OK, go!" }).click();
    await expect
      .poll(() => ben.getByTestId("join-error").innerText())
      .toMatch(/removed you from this game/);
    await shot(ben, "banned");

    // Nicknames are text, never markup: this one shows its angle brackets on the host's screen.
    const eve = await h.page(PHONE);
    await joinAs(eve, pin, "<b>Eve</b>");
    await host.getByTestId("roster").getByText("<b>Eve</b>", { exact: true }).waitFor();
    expect(await host.getByTestId("roster").locator("b").count()).toBe(0);
    await expect.poll(() => eve.getByTestId("player-name").innerText()).toBe("<b>Eve</b>");

    // An unknown page of the app says so.
    const lost = await h.page(LAPTOP);
    await lost.goto("/host/no-such-room");
    await lost
      .getByRole("heading", { name: "This browser is not the host of this game" })
      .waitFor();
    await shot(lost, "not-host");
    await lost.goto("/quiz/no-such-quiz/start");
    await lost
      .getByRole("alert")
      .getByText(/no longer exists/)
      .waitFor();
    await lost.goto("/nowhere/at/all/really");
    await lost.getByRole("heading", { name: "Page not found" }).waitFor();
    expect(h.problems).toEqual([]);
  });
});
