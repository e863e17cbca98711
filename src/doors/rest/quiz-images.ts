/**
 * The pictures of a quiz document on their way in and out: a quiz may name
 * only uploaded images this server has (or that the document itself carries,
 * as an export does), and an export carries the ones it names.
 */

import { imagePath, uploadedImageId } from "../../content/image-ref.js";
import { type CheckedImage, checkImageBytes } from "../../content/image-upload.js";
import type { QuizIssue } from "../../content/quiz-check.js";
import type { EmbeddedImage, QuizDocument } from "../../content/quiz-format.js";
import type { Quiz } from "../../domain/quiz.js";
import type { Storage } from "../../ports/storage.js";

/** Uploaded image ids the quiz's questions name, with the path of the first question naming each. */
function namedImages(quiz: Quiz): Map<string, string> {
  const named = new Map<string, string>();
  quiz.questions.forEach((q, i) => {
    const id = q.image === undefined ? null : uploadedImageId(q.image);
    if (id !== null && !named.has(id)) named.set(id, `questions[${i}].image`);
  });
  return named;
}

/**
 * Checks the pictures a document carries and that every uploaded picture the quiz names is
 * stored or carried. Returns the carried ones to store (before the quiz) and the issues; nothing
 * is written here, so a refused document leaves nothing behind.
 */
export async function checkQuizImages(
  storage: Storage,
  quiz: Quiz,
  carried: Readonly<Record<string, EmbeddedImage>> | undefined,
): Promise<{ toStore: CheckedImage[]; issues: QuizIssue[] }> {
  const issues: QuizIssue[] = [];
  const toStore: CheckedImage[] = [];
  for (const [id, embedded] of Object.entries(carried ?? {})) {
    const path = `images.${id}`;
    const bytes = Buffer.from(embedded.data_base64, "base64");
    const checked = await checkImageBytes(bytes);
    if (!checked.ok) {
      issues.push({ path, msg: checked.message });
    } else if (checked.image.id !== id) {
      issues.push({ path, msg: "does not match its bytes (the id is their SHA-256)" });
    } else {
      toStore.push(checked.image);
    }
  }
  const named = namedImages(quiz);
  const carriedIds = new Set(toStore.map((i) => i.id));
  const wanted = [...named.keys()].filter((id) => !carriedIds.has(id));
  const stored = await storage.images.existing(wanted);
  for (const id of wanted) {
    if (!stored.has(id)) {
      issues.push({
        path: named.get(id) ?? "image",
        msg: `names an uploaded image this server does not have (${imagePath(id)}); upload it first`,
      });
    }
  }
  return { toStore, issues };
}

export async function storeImages(
  storage: Storage,
  images: readonly CheckedImage[],
  now: number,
): Promise<void> {
  for (const image of images) await storage.images.put({ ...image, createdAt: now });
}

/** The uploaded pictures a quiz names, to carry in its export. */
export async function imagesForExport(
  storage: Storage,
  quiz: Quiz,
): Promise<QuizDocument["images"] | undefined> {
  const out: Record<string, EmbeddedImage> = {};
  for (const id of namedImages(quiz).keys()) {
    const image = await storage.images.get(id);
    if (image) {
      out[id] = {
        content_type: image.contentType,
        data_base64: Buffer.from(image.bytes).toString("base64"),
      };
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
