import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import {
  browserDescribe,
  LAPTOP,
  overflowsHorizontally,
  PHONE,
  screenshots,
  useHarness,
} from "./support.js";

const CSV = [
  "question,answer_1,answer_2,answer_3,correct,time_limit,difficulty,tags",
  "Capital of Italy?,Milan,Rome,Turin,2,15,easy,geography",
  '"Spell the colour of the sky, British style",,,,colour|color,20,,spelling',
  "",
].join("\n");

browserDescribe("web app: the quiz library", () => {
  const h = useHarness({
    id: "to-export",
    title: "Export me",
    questions: [{ text: "Yes?", options: ["Yes", "No"], correct: [0] }],
  });

  it("imports CSV and JSON (with problems listed), exports and deletes quizzes", {
    timeout: 120_000,
  }, async () => {
    const shot = screenshots("library");
    const page = await h.page(LAPTOP);
    await page.goto("/");
    await page.getByRole("heading", { name: "Export me" }).waitFor();

    // CSV: the title comes from the file name.
    await page.getByTestId("import-file").setInputFiles({
      name: "italian-trip.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(CSV),
    });
    await page.getByRole("status").getByText("Imported “italian trip”.").waitFor();
    await page.getByRole("heading", { name: "italian trip" }).waitFor();

    // JSON with mistakes: every problem is listed, by question and field.
    const bad = { title: "Broken", questions: [{ text: "", options: ["a"], correct: [3] }] };
    await page.getByTestId("import-file").setInputFiles({
      name: "broken.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(bad)),
    });
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.innerText()).toMatch(/Could not import broken\.json/);
    await expect.poll(() => alert.innerText()).toMatch(/Question 1 · Question: must not be empty/);
    await shot(page, "import-problems");

    // Export downloads the quiz document.
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export Export me as JSON" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("to-export.json");
    const doc = JSON.parse(await readFile((await file.path()) ?? "", "utf8")) as { title: string };
    expect(doc.title).toBe("Export me");

    // Delete asks once more, then the quiz is gone.
    await page.getByRole("button", { name: "Delete Export me" }).click();
    await page.getByRole("button", { name: "Delete for good" }).click();
    await page.getByRole("status").getByText("Deleted “Export me”.").waitFor();
    await expect.poll(() => page.getByRole("heading", { name: "Export me" }).count()).toBe(0);
    await shot(page, "after-delete");

    // The library works on a phone too.
    const phone = await h.page(PHONE);
    await phone.goto("/");
    await phone.getByRole("heading", { name: "italian trip" }).waitFor();
    expect(await overflowsHorizontally(phone)).toBe(false);
    await shot(phone, "phone-library");
    expect(h.problems).toEqual([]);
  });
});
