/**
 * A question's picture as the web app handles it: which files and addresses
 * the editor may offer the server, the words for what it refuses, and
 * loading the next picture early so a question never waits for one. The
 * rules themselves are the server's (src/content/image-ref.ts), imported so
 * the editor and the server never disagree; the server stays the authority.
 */
import { IMAGE_MAX_BYTES, IMAGE_TYPES, imageRefProblem } from "../../../src/content/image-ref.js";
import { errorText } from "./error-text.js";
import type { Issue } from "./quiz-model.js";

export { IMAGE_MAX_BYTES };

/** The file picker's `accept`: the formats the server takes. */
export const IMAGE_ACCEPT = IMAGE_TYPES.join(",");

const ACCEPTED: ReadonlySet<string> = new Set(IMAGE_TYPES);
const LIMIT_TEXT = "2 MB";

/**
 * Why a chosen file will not do, checked before it is sent (the server reads
 * the bytes and has the last word), or null when it may be uploaded. A file
 * the browser could not type (`type` empty) is left to the server.
 */
export function fileProblem(file: { size: number; type: string }): string | null {
  if (file.type !== "" && !ACCEPTED.has(file.type)) {
    return "That file is not a picture quizwire can show. Use a PNG, JPEG, WebP or GIF image.";
  }
  if (file.size === 0) return "That file is empty.";
  if (file.size > IMAGE_MAX_BYTES) {
    return `That picture is too large (${megabytes(file.size)}); the limit is ${LIMIT_TEXT}.`;
  }
  return null;
}

/**
 * Why the text in the picture's address field cannot be saved, or null when
 * it can (blank means no picture). Reads as a sentence under the field.
 */
export function addressProblem(text: string): string | null {
  const ref = text.trim();
  if (ref === "") return null;
  const problem = imageRefProblem(ref);
  if (problem === null) return null;
  // The length limit is the one rule that is not about the address's form.
  if (problem.startsWith("must be at most")) return `That address ${problem}.`;
  return "Use a web address that starts with http:// or https://, or upload a file.";
}

/**
 * The picture problems of a quiz's questions, as issues at the paths the
 * server would use (`questions[i].image`), so the editor shows them at the
 * field and sends nothing until they are fixed.
 */
export function pictureIssues(questions: ReadonlyArray<{ image: string }>): Issue[] {
  const out: Issue[] = [];
  questions.forEach((q, i) => {
    const problem = addressProblem(q.image);
    if (problem !== null) out.push({ path: `questions[${i}].image`, msg: problem });
  });
  return out;
}

/** The words for a refused upload (POST /api/v1/images, docs/errors.md). */
export function uploadErrorText(error: unknown): string {
  const reason =
    typeof error === "object" && error !== null ? (error as { reason?: unknown }).reason : null;
  switch (reason) {
    case "not_an_image":
    case "unsupported_media_type":
      return "That file is not a picture quizwire can show. Use a PNG, JPEG, WebP or GIF image.";
    case "image_too_large":
    case "body_too_large":
      return `That picture is too large; the limit is ${LIMIT_TEXT}.`;
    case "empty_image":
      return "That file is empty.";
    default:
      return `The picture was not uploaded. ${errorText(error)}`;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const preloaded = new Set<string>();

/**
 * Starts loading a picture now (the next question's, during a reveal), so it
 * is in the browser's cache when its question opens. Each address once.
 */
export function preloadImage(url: string | undefined, load = defaultLoad): void {
  if (url === undefined || url === "" || preloaded.has(url)) return;
  preloaded.add(url);
  load(url);
}

function defaultLoad(url: string): void {
  const img = new Image();
  img.decoding = "async";
  img.src = url;
}
