import type { RoomHandle } from "../engine/room-handle.js";
import type { PinGuesses, PinGuessLimits } from "../ports/pin-guesses.js";

/**
 * Seed 000's PIN limit (P-4): 10 unknown PINs per hour per address and per
 * identity; 10 more lookups while refused and the guesser is shadow-banned
 * for 24 hours.
 */
export const PIN_GUESS_LIMITS: PinGuessLimits = {
  guesses: 10,
  windowMs: 60 * 60_000,
  refusalsBeforeBan: 10,
  banMs: 24 * 60 * 60_000,
};

/** Who is looking a PIN up: the address always, the identity when it is one (a signed-in or token user). */
export interface PinAsker {
  address: string;
  userId: string | null;
}

/**
 * What a PIN lookup answers. A shadow-banned asker gets `unknown` for every
 * PIN, as if none existed; a limited one gets `limited` for every PIN.
 */
export type PinLookup =
  | { kind: "found"; handle: RoomHandle }
  | { kind: "unknown" }
  | { kind: "limited"; retryAfterMs: number };

/**
 * Every lookup of a room by PIN, by any door or route, goes through here, so
 * one limit covers them all and no answer past the limit depends on whether
 * the PIN exists (P-4): past it, a right PIN is refused exactly as a wrong one
 * is, and a shadow-banned asker hears `unknown` for both. Only unknown PINs use
 * guesses up; a right one only checks the asker's standing, so many right
 * lookups at once from one address (a classroom behind one router, a load
 * test) never limit it.
 */
export class PinGate {
  constructor(
    private readonly deps: {
      findByPin(pin: string): Promise<RoomHandle | undefined>;
      guesses: PinGuesses;
      limits?: PinGuessLimits;
    },
  ) {}

  get limits(): PinGuessLimits {
    return this.deps.limits ?? PIN_GUESS_LIMITS;
  }

  async find(pin: string, asker: PinAsker): Promise<PinLookup> {
    const keys = this.keysOf(asker);
    const handle = await this.deps.findByPin(pin);
    // The asker's standing alone decides what comes back; the lookup only says what it costs.
    const standing = handle
      ? await this.deps.guesses.check(keys, this.limits)
      : await this.deps.guesses.enter(keys, this.limits);
    if (standing.kind === "banned") return { kind: "unknown" };
    if (standing.kind === "limited")
      return { kind: "limited", retryAfterMs: standing.retryAfterMs };
    return handle ? { kind: "found", handle } : { kind: "unknown" };
  }

  /**
   * A lookup by another name than a PIN that found nothing one may join (a room id one was not
   * invited to, R-7): it uses up a guess as an unknown PIN does, under the same limit. Room ids
   * are 128-bit and cannot be guessed; what this bounds is probing them.
   */
  async wrongGuess(asker: PinAsker): Promise<Exclude<PinLookup, { kind: "found" }>> {
    const standing = await this.deps.guesses.enter(this.keysOf(asker), this.limits);
    if (standing.kind === "limited")
      return { kind: "limited", retryAfterMs: standing.retryAfterMs };
    return { kind: "unknown" };
  }

  private keysOf(asker: PinAsker): string[] {
    const keys = [`ip:${asker.address}`];
    if (asker.userId !== null) keys.push(`user:${asker.userId}`);
    return keys;
  }
}
