/**
 * How a question names its picture. Either an image uploaded to this server,
 * named by the SHA-256 of its bytes (so the same file uploaded twice is one
 * image, and a URL never changes meaning: it is served as immutable), or an
 * http(s) URL elsewhere. Nothing else: no `data:`, `javascript:` or
 * `file:` URLs, no relative paths other than our own image path.
 */
import { QUIZ_LIMITS } from "../domain/quiz.js";

/** Where uploaded images are served; `imagePath(id)` is a question's `image` for one. */
export const IMAGE_PATH_PREFIX = "/api/v1/images/";

/** An uploaded image's id: the lowercase hex SHA-256 of its bytes. */
export const IMAGE_ID_PATTERN_SOURCE = "^[0-9a-f]{64}$";
const IMAGE_ID = new RegExp(IMAGE_ID_PATTERN_SOURCE);

/** The picture formats quizwire accepts, by the content type its bytes show. */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** The largest upload, in bytes (2 MiB): a phone photo scaled for a screen fits easily. */
export const IMAGE_MAX_BYTES = 2 * 1024 * 1024;

export function isImageId(id: string): boolean {
  return IMAGE_ID.test(id);
}

export function imagePath(id: string): string {
  return `${IMAGE_PATH_PREFIX}${id}`;
}

/** The id of an uploaded image a reference names, or null for an outside URL (or nonsense). */
export function uploadedImageId(ref: string): string | null {
  if (!ref.startsWith(IMAGE_PATH_PREFIX)) return null;
  const id = ref.slice(IMAGE_PATH_PREFIX.length);
  return isImageId(id) ? id : null;
}

/** Why `ref` cannot be a question's picture, or null when it can. Reads after the field name. */
export function imageRefProblem(ref: string): string | null {
  if (ref.length === 0) return "must not be empty (leave it out for no picture)";
  if (ref.length > QUIZ_LIMITS.imageRefMax) {
    return `must be at most ${QUIZ_LIMITS.imageRefMax} characters`;
  }
  if (ref.startsWith("/")) {
    return uploadedImageId(ref) === null
      ? `must be an http(s) URL or ${IMAGE_PATH_PREFIX}<id> of an uploaded image`
      : null;
  }
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return "must be an http(s) URL or the path of an uploaded image";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `must be an http(s) URL (not ${url.protocol})`;
  }
  if (url.username !== "" || url.password !== "") return "must not carry a user name or password";
  return null;
}
