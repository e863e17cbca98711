import { crc32, deflateSync } from "node:zlib";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { TINY_IMAGES } from "../support/images.js";
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

/** A real PNG of `width`×`height`: a left-to-right blend of two colours, with a dark band. */
function picturePng(width: number, height: number, from: number[], to: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    const band = Math.abs(y - height / 2) < height / 12;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const v = ((from[c] ?? 0) * (width - x) + (to[c] ?? 0) * x) / width;
        raw[row + 1 + x * 3 + c] = band ? v / 3 : v;
      }
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const FIRST_PICTURE = picturePng(800, 500, [255, 170, 0], [200, 0, 120]);
const SECOND_PICTURE = picturePng(600, 600, [0, 150, 255], [0, 200, 90]);

async function upload(baseUrl: string, bytes: Buffer): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/images`, {
    method: "POST",
    headers: { "content-type": "image/png" },
    body: new Uint8Array(bytes),
  });
  if (!res.ok) throw new Error(`POST /api/v1/images: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { url: string }).url;
}

/** Whether the question's picture has loaded and shows with the question's text as its alt. */
async function pictureShown(page: Page, alt: string): Promise<boolean> {
  const img = page.getByTestId("question-picture").locator("img");
  if ((await img.count()) !== 1) return false;
  if ((await img.getAttribute("alt")) !== alt) return false;
  return img.evaluate(
    (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0,
  );
}

/** Whether the whole of `selector`'s last match is inside the viewport without scrolling. */
async function lastFullyVisible(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const all = document.querySelectorAll(sel);
    const last = all[all.length - 1];
    if (!last) return false;
    const r = last.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  }, selector);
}

const HOST_SIZE = { viewport: { width: 1280, height: 800 } };
const PHONE_SIZE = { ...PHONE, viewport: { width: 390, height: 844 } };

browserDescribe("web app: question pictures", () => {
  const h = useHarness();

  it("the editor uploads a picture and shows it, refuses bad files and addresses at the field, and saves only a valid picture", {
    timeout: 120_000,
  }, async () => {
    const saveShot = screenshots("pictures-editor");
    // Scrolled to the end first, so the sticky save bar sits at the bottom of a full-page shot
    // instead of over the picture field.
    const shot = async (page: Page, name: string) => {
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await saveShot(page, name);
    };
    const host = await h.page(LAPTOP);
    const uploads: number[] = [];
    host.on("response", (r) => {
      if (r.url().endsWith("/api/v1/images") && r.request().method() === "POST") {
        uploads.push(r.status());
      }
    });
    await host.goto("/");
    await host.getByTestId("new-quiz").click();
    await host.getByRole("heading", { name: "New quiz" }).waitFor();
    await host.getByLabel("Title").fill("Quiz with pictures");
    const card = host.getByTestId("question-card").nth(0);
    await card.getByLabel("Question", { exact: true }).fill("Which colour is on the left?");
    for (const [letter, text] of [
      ["A", "Orange"],
      ["B", "Blue"],
      ["C", "Green"],
      ["D", "Grey"],
    ] as const) {
      await card.getByLabel(`Answer ${letter}`, { exact: true }).fill(text);
    }
    const file = card.getByLabel("Question 1: upload a picture");
    const issue = card.getByTestId("picture-issue");
    const address = card.getByLabel("or its web address (http:// or https://)");

    // A text file is refused in the browser, before anything is sent.
    await file.setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("hi"),
    });
    await expect.poll(() => issue.innerText()).toMatch(/not a picture quizwire can show/);
    expect(await address.getAttribute("aria-invalid")).toBe("true");
    await shot(host, "not-a-picture");

    // A file over 2 MB is refused in the browser too.
    await file.setInputFiles({
      name: "huge.png",
      mimeType: "image/png",
      buffer: Buffer.concat([TINY_IMAGES.png, Buffer.alloc(2 * 1024 * 1024)]),
    });
    await expect.poll(() => issue.innerText()).toMatch(/too large \(2\.0 MB\); the limit is 2 MB/);
    expect(uploads).toEqual([]);

    // A file that claims to be a PNG but is not: the server reads the bytes and refuses it.
    await file.setInputFiles({
      name: "fake.png",
      mimeType: "image/png",
      buffer: Buffer.from("this is not a picture at all"),
    });
    await expect.poll(() => uploads).toEqual([400]);
    await expect.poll(() => issue.innerText()).toMatch(/not a picture quizwire can show/);
    expect(await card.getByTestId("picture-preview").count()).toBe(0);
    expect(await address.inputValue()).toBe("");

    // An address that is not http(s) is marked at once, and the quiz is not sent with it.
    await address.fill("ftp://example.com/sky.png");
    await expect.poll(() => issue.innerText()).toMatch(/starts with http:\/\/ or https:\/\//);
    await host.getByTestId("save-quiz").click();
    await expect
      .poll(() => host.getByTestId("save-error").innerText())
      .toMatch(/Question 1 · Picture: Use a web address/);
    await shot(host, "bad-address");
    const listed = await (await fetch(`${h.baseUrl}/api/v1/quizzes`)).json();
    expect(JSON.stringify(listed)).not.toContain("Quiz with pictures");

    // Fixing it clears the error at once.
    await address.fill("");
    await expect.poll(() => issue.count()).toBe(0);
    expect(await address.getAttribute("aria-invalid")).toBeNull();

    // An uploaded image's path this server does not have: the server refuses the quiz, its words
    // show at the field, and they go as soon as the picture is changed.
    await address.fill(`/api/v1/images/${"0".repeat(64)}`);
    await card.getByTestId("picture-broken").waitFor();
    await host.getByTestId("save-quiz").click();
    await expect
      .poll(() => host.getByTestId("save-error").innerText())
      .toMatch(/Question 1 · Picture: names an uploaded image this server does not have/);
    await expect.poll(() => issue.innerText()).toMatch(/upload it first/);

    // A real picture uploads, fills in its address and shows a preview.
    await file.setInputFiles({ name: "colours.png", mimeType: "image/png", buffer: FIRST_PICTURE });
    await expect.poll(() => address.inputValue()).toMatch(/^\/api\/v1\/images\/[0-9a-f]{64}$/);
    const preview = card.getByTestId("picture-preview");
    await expect
      .poll(() => preview.evaluate((el) => (el as HTMLImageElement).naturalWidth))
      .toBe(800);
    expect(await issue.count()).toBe(0);
    await shot(host, "uploaded-preview");
    const url = await address.inputValue();

    await host.getByTestId("save-quiz").click();
    await expect.poll(() => host.getByTestId("save-status").innerText()).toMatch(/^Saved/);
    await expect.poll(() => new URL(host.url()).pathname).toMatch(/^\/quiz\/(?!new$)[^/]+$/);
    const id = /^\/quiz\/([^/]+)$/.exec(new URL(host.url()).pathname)?.[1];
    expect(id).toBeDefined();
    const stored = (await (
      await fetch(`${h.baseUrl}/api/v1/quizzes/${id}?answers=true`)
    ).json()) as { questions: Array<{ image?: string }> };
    expect(stored.questions[0]?.image).toBe(url);

    // Removing the picture takes it out of the quiz.
    await card.getByRole("button", { name: "Remove the picture of Question 1" }).click();
    expect(await card.getByTestId("picture-preview").count()).toBe(0);
    await host.getByTestId("save-quiz").click();
    await expect.poll(() => host.getByTestId("save-status").innerText()).toMatch(/^Saved/);
    const after = (await (
      await fetch(`${h.baseUrl}/api/v1/quizzes/${id}?answers=true`)
    ).json()) as { questions: Array<{ image?: string }> };
    expect(after.questions[0]).not.toHaveProperty("image");
    expect(h.problems).toEqual([]);
  });

  it("host, big screen and phone show the question's picture with the answers in view; the next picture loads during the reveal", {
    timeout: 150_000,
  }, async () => {
    const shot = screenshots("pictures-live");
    const first = await upload(h.baseUrl, FIRST_PICTURE);
    const second = await upload(h.baseUrl, SECOND_PICTURE);
    const outside = `${h.baseUrl.replace("127.0.0.1", "localhost")}${second}`;
    const res = await fetch(`${h.baseUrl}/api/v1/quizzes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        title: "Pictures live",
        questions: [
          {
            kind: "single",
            text: "Which colour is on the left of this picture?",
            options: ["Orange", "Blue", "Green", "Purple"],
            correct: [0],
            image: first,
          },
          {
            kind: "single",
            text: "And on this one?",
            options: ["Blue", "Red"],
            correct: [0],
            // An outside address (another origin than the page's): the page's CSP must let it in.
            image: outside,
          },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const quiz = (await res.json()) as { id: string };

    const host = await h.page(HOST_SIZE);
    await host.goto(`/quiz/${quiz.id}/start`);
    const pin = await createGame(host);
    const screen = await h.page(HOST_SIZE);
    await screen.goto(`/screen?pin=${pin}`);
    await screen.getByTestId("big-screen").waitFor();
    const ann = await h.page(PHONE_SIZE);
    const requested: string[] = [];
    ann.on("request", (r) => requested.push(r.url()));
    await joinAndStart(host, pin, [[ann, "Ann"]]);

    const q1 = "Which colour is on the left of this picture?";
    await ann.getByRole("heading", { name: q1 }).waitFor();
    for (const page of [host, screen, ann]) {
      await expect.poll(() => pictureShown(page, q1)).toBe(true);
    }
    expect(await lastFullyVisible(host, ".big-option")).toBe(true);
    expect(await lastFullyVisible(screen, ".big-option")).toBe(true);
    expect(await answerButton(ann, "Purple").isVisible()).toBe(true);
    expect(await lastFullyVisible(ann, ".answers > *")).toBe(true);
    await shot(host, "host-question");
    await shot(screen, "screen-question");
    await shot(ann, "phone-question");

    // The reveal brings the next question's picture, which the phone loads before it opens.
    expect(requested).not.toContain(outside);
    await answerButton(ann, "Orange").click();
    await host.getByTestId("host-reveal").waitFor();
    await expect.poll(() => requested.includes(outside)).toBe(true);
    expect(await ann.getByTestId("question-picture").count()).toBe(0);

    await host.getByTestId("next-question").click();
    await ann.getByRole("heading", { name: "And on this one?" }).waitFor();
    for (const page of [host, screen, ann]) {
      await expect.poll(() => pictureShown(page, "And on this one?")).toBe(true);
    }
    expect(await lastFullyVisible(ann, ".answers > *")).toBe(true);
    await shot(ann, "phone-question-2");
    await shot(screen, "screen-question-2");
    expect(h.problems).toEqual([]);
  });
});
