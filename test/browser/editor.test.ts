import { expect, it } from "vitest";
import {
  answerButton,
  browserDescribe,
  createGame,
  joinAndStart,
  LAPTOP,
  PHONE,
  screenshots,
  useHarness,
} from "./support.js";

browserDescribe("web app: the quiz editor", () => {
  const h = useHarness();

  it("creates a quiz with every question kind, shows the server's problems per field, and the quiz then plays", {
    timeout: 150_000,
  }, async () => {
    const shot = screenshots("editor");
    const host = await h.page(LAPTOP);
    await host.goto("/");
    await host.getByTestId("new-quiz").click();
    await host.getByRole("heading", { name: "New quiz" }).waitFor();
    await host.getByLabel("Title").fill("Made in the editor");

    const card = (i: number) => host.getByTestId("question-card").nth(i);

    // Question 1, single choice, with one answer left empty on purpose.
    await card(0).getByLabel("Question", { exact: true }).fill("Which colour is the sky?");
    await card(0).getByLabel("Answer A", { exact: true }).fill("Red");
    await card(0).getByLabel("Answer B", { exact: true }).fill("Green");
    await card(0).getByLabel("Answer C", { exact: true }).fill("Blue");
    await card(0).getByLabel("Answer C is correct").check();
    await host.getByTestId("save-quiz").click();

    // The server refuses it; the problem is shown at the empty answer, in words.
    await host.getByTestId("save-error").waitFor();
    await expect
      .poll(() => host.getByTestId("save-error").innerText())
      .toMatch(/Question 1 · Answer D: must not be empty/);
    await expect
      .poll(() => card(0).getByLabel("Answer D", { exact: true }).getAttribute("aria-invalid"))
      .toBe("true");
    await card(0).getByTestId("field-issue").getByText("must not be empty").waitFor();
    await shot(host, "server-issues");
    // Typing into the field clears its problem at once, in the field and in the summary.
    await card(0).getByLabel("Answer D", { exact: true }).fill("Yellow");
    await expect
      .poll(() => card(0).getByLabel("Answer D", { exact: true }).getAttribute("aria-invalid"))
      .toBeNull();
    expect(await card(0).getByTestId("field-issue").count()).toBe(0);
    await expect
      .poll(() => host.getByTestId("save-error").innerText())
      .toBe("The quiz is not saved yet: save it again.");
    await card(0).getByRole("button", { name: "Remove answer D" }).click();

    // Question 2, true or false: the statement is false.
    await host.getByRole("button", { name: "True or false" }).click();
    await card(1).getByLabel("Question", { exact: true }).fill("Fish can fly.");
    await card(1).getByLabel("Answer B is correct").check();

    // Question 3, typed, with an accepted alternative.
    await host.getByRole("button", { name: "Typed answer" }).click();
    await card(2).getByLabel("Question", { exact: true }).fill("What colour is grass?");
    await card(2).getByLabel("Accepted answer 1", { exact: true }).fill("green");
    await card(2).getByRole("button", { name: "Add an alternative" }).click();
    await card(2).getByLabel("Accepted answer 2", { exact: true }).fill("light green");

    // Question 4, multiple choice, double points, 15 seconds.
    await host.getByRole("button", { name: "Multiple choice" }).click();
    await card(3).getByLabel("Question", { exact: true }).fill("Which are fruits?");
    const fruits: Array<[string, string]> = [
      ["A", "Apple"],
      ["B", "Carrot"],
      ["C", "Pear"],
      ["D", "Leek"],
    ];
    for (const [letter, text] of fruits) {
      await card(3).getByLabel(`Answer ${letter}`, { exact: true }).fill(text);
    }
    await card(3).getByLabel("Answer C is correct").check();
    await card(3).getByLabel("Points", { exact: true }).selectOption("2");
    await card(3).getByLabel("Time limit (seconds)").fill("15");

    // Reorder: the fruit question moves above the typed one.
    await host.getByRole("button", { name: "Move Question 4 up" }).click();
    await expect
      .poll(() => card(2).getByLabel("Question", { exact: true }).inputValue())
      .toBe("Which are fruits?");

    // A fifth question, added and deleted again.
    await host.getByRole("button", { name: "Single choice" }).click();
    await expect.poll(() => host.getByTestId("question-card").count()).toBe(5);
    await host.getByRole("button", { name: "Delete Question 5" }).click();
    await host.getByRole("button", { name: "Delete Question 5" }).click();
    await expect.poll(() => host.getByTestId("question-card").count()).toBe(4);
    await shot(host, "filled-in");

    await host.getByTestId("save-quiz").click();
    await expect
      .poll(() => host.getByTestId("save-status").innerText())
      .toBe("Saved “Made in the editor”.");
    await expect.poll(() => new URL(host.url()).pathname).toMatch(/^\/quiz\/[A-Za-z0-9_-]+$/);

    // What was stored comes back after a reload, in the same order.
    await host.reload();
    await expect.poll(() => host.getByLabel("Title").inputValue()).toBe("Made in the editor");
    await expect.poll(() => host.getByTestId("question-card").count()).toBe(4);
    await expect.poll(() => card(2).getByLabel("Points", { exact: true }).inputValue()).toBe("2");
    await expect
      .poll(() => card(3).getByLabel("Accepted answer 2", { exact: true }).inputValue())
      .toBe("light green");
    await shot(host, "reloaded");

    // Save and host: the quiz plays.
    await host.getByRole("button", { name: "Save and host" }).click();
    const pin = await createGame(host);
    const pia = await h.page(PHONE);
    await joinAndStart(host, pin, [[pia, "Pia"]]);

    await pia.getByRole("heading", { name: "Which colour is the sky?" }).waitFor();
    expect(await pia.getByRole("button", { name: /\(key \d\)/ }).count()).toBe(3);
    await answerButton(pia, "Blue").click();
    await pia.getByRole("heading", { name: "Correct!" }).waitFor();
    await host.getByTestId("next-question").click();

    await pia.getByRole("heading", { name: "Fish can fly." }).waitFor();
    await answerButton(pia, "False").click();
    await pia.getByRole("heading", { name: "Correct!" }).waitFor();
    await host.getByTestId("next-question").click();

    await pia.getByRole("heading", { name: "Which are fruits?" }).waitFor();
    await expect
      .poll(() => pia.getByTestId("player-question").innerText())
      .toContain("Double points");
    await answerButton(pia, "Apple").click();
    await answerButton(pia, "Pear").click();
    await pia.getByRole("button", { name: "Submit answer" }).click();
    await pia.getByRole("heading", { name: "Correct!" }).waitFor();
    await host.getByTestId("next-question").click();

    await pia.getByRole("heading", { name: "What colour is grass?" }).waitFor();
    await pia.getByLabel("Your answer").fill("Light Green");
    await pia.getByRole("button", { name: "Submit answer" }).click();
    await pia.getByRole("heading", { name: "Correct!" }).waitFor();
    await host.getByTestId("next-question").click();

    await pia.getByTestId("player-end").waitFor();
    await expect.poll(() => pia.getByTestId("final-rank").innerText()).toMatch(/1st of 1/);
    await host.getByTestId("results-table").waitFor();
    await expect
      .poll(() => host.getByTestId("results-table").locator("tbody tr td").nth(2).innerText())
      .toBe("4/4");
    await shot(host, "played");
    expect(h.problems).toEqual([]);
  });
});
