import { NAME_MAX } from "../../domain/names.js";

// What rule N-1 refuses (control and format characters) is dropped here instead: a username
// from another application's token is not something the player can retype.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
const FALLBACK = "player";

function cut(text: string, maxChars: number): string {
  return [...text].slice(0, maxChars).join("").trim();
}

/**
 * The name a token's user plays under: the `username` claim (or, without one,
 * the user id), cleaned so rule N-1 accepts it: unprintable characters
 * dropped, whitespace collapsed, cut to 24 characters.
 */
export function baseName(username: string | null, userId: string): string {
  const cleaned = (username ?? userId).replace(UNPRINTABLE, "").replace(/\s+/gu, " ").trim();
  return cut(cleaned, NAME_MAX) || FALLBACK;
}

/**
 * The `attempt`-th name to try when names clash (N-1: unique within a contest):
 * `alice`, then `alice (2)`, `alice (3)`, … — the base cut short so the whole
 * still fits in 24 characters.
 */
export function nameAttempt(base: string, attempt: number): string {
  if (attempt <= 1) return base;
  const suffix = ` (${attempt})`;
  return `${cut(base, NAME_MAX - suffix.length) || FALLBACK}${suffix}`;
}
