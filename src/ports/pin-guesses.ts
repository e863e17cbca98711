/**
 * How much PIN guessing is allowed (P-4): wrong PINs per window, then honest
 * refusals, then a shadow ban for whoever keeps going.
 */
export interface PinGuessLimits {
  /** Lookups of unknown PINs allowed per key per window (seed 000: 10 per hour). */
  guesses: number;
  windowMs: number;
  /** Lookups refused while a key is out of guesses, per window, before the key is shadow-banned. */
  refusalsBeforeBan: number;
  /** How long a shadow ban lasts. */
  banMs: number;
}

/** What a key may do now: look a PIN up, be refused (until `retryAfterMs`), or be told nothing exists. */
export type PinStanding =
  | { kind: "open" }
  | { kind: "limited"; retryAfterMs: number }
  | { kind: "banned" };

/**
 * The guess allowances of addresses and identities, shared by every instance
 * (Redis when clustered). A lookup of an unknown PIN `enter`s (uses a guess); a
 * lookup that found its room only `check`s (uses none), so right PINs never
 * use up an address's guesses, however many arrive at once (a classroom
 * behind one address). Either way the answer past the limit is the same.
 */
export interface PinGuesses {
  /**
   * Atomically over `keys`: any key shadow-banned → `banned`; any key out of
   * guesses → `limited`, and the refusal counts towards a ban for every key
   * (the refusal that finds none left bans them); otherwise one guess is taken
   * from every key → `open`.
   */
  enter(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding>;
  /** As `enter`, but a key with guesses left keeps them (`open` uses nothing). */
  check(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding>;
  /** Gives back the guess `enter` took from each key. */
  refund(keys: readonly string[], limits: PinGuessLimits): Promise<void>;
}
