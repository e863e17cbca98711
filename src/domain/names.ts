import { fail, ok, type Result } from "./errors.js";

export const NAME_MAX = 24;

// Cc (controls), Cf (format: zero-width joiners, bidi overrides), line/paragraph separators.
const FORBIDDEN_CHARS = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** N-1: trims, collapses inner whitespace, rejects control characters and bad lengths. */
export function cleanDisplayName(raw: string): Result<string> {
  if (FORBIDDEN_CHARS.test(raw)) {
    return fail("VALIDATION", "display name must not contain control characters", "invalid_name");
  }
  // Only spaces are left to collapse: every other whitespace control was rejected above.
  const name = raw.replace(/\s+/gu, " ").trim();
  const length = [...name].length;
  if (length === 0) return fail("VALIDATION", "display name is empty", "invalid_name");
  if (length > NAME_MAX) {
    return fail("VALIDATION", `display name is longer than ${NAME_MAX} characters`, "invalid_name");
  }
  return ok(name);
}

/** N-1: the key names are compared by for uniqueness within a room. */
export function nameKey(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}
