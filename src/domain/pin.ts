import type { Random } from "../ports/clock.js";

/** A room PIN: 6 decimal digits, the first 1–9 (P-1). */
export const PIN_PATTERN = /^[1-9][0-9]{5}$/;

const PIN_MIN = 100_000;
const PIN_COUNT = 900_000;
const MIN_DISTINCT_DIGITS = 3;

/**
 * Whether a PIN is easy to guess (P-2): an ascending or descending run of consecutive digits
 * (123456, 654321; no wrap-around, so 890123 is not a run), a repeated pattern of period 2 or 3
 * (121212, 123123, 100100), or fewer than three distinct digits (111111, 111222). Looks only at
 * the digits; whether `pin` has the right form is PIN_PATTERN's job.
 */
export function isEasyPin(pin: string): boolean {
  const d = Array.from(pin, (c) => c.charCodeAt(0) - 48);
  if (new Set(d).size < MIN_DISTINCT_DIGITS) return true;
  return hasStep(d, 1) || hasStep(d, -1) || hasPeriod(d, 2) || hasPeriod(d, 3);
}

function hasStep(d: number[], step: number): boolean {
  for (let i = 1; i < d.length; i++) if (d[i] !== (d[i - 1] ?? Number.NaN) + step) return false;
  return true;
}

function hasPeriod(d: number[], p: number): boolean {
  for (let i = p; i < d.length; i++) if (d[i] !== d[i - p]) return false;
  return true;
}

/**
 * Draws a PIN uniformly from those P-2 allows and `isTaken` does not claim (P-1, P-3), by
 * rejection sampling. Throws when `maxAttempts` draws found none, which means the PIN space is
 * nearly exhausted or `isTaken` is wrong.
 */
export function generatePin(
  random: Random,
  isTaken: (pin: string) => boolean,
  maxAttempts = 1000,
): string {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const pin = String(PIN_MIN + random.int(PIN_COUNT));
    if (!isEasyPin(pin) && !isTaken(pin)) return pin;
  }
  throw new Error(`no free room PIN found after ${maxAttempts} attempts`);
}
