/** Small formatting rules shared by the screens. */

/** 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

/** 12345 → "12,345" (fixed grouping, so screenshots and tests do not depend on the locale). */
export function points(n: number): string {
  const sign = n < 0 ? "-" : "";
  return (
    sign +
    Math.abs(Math.round(n))
      .toString()
      .replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  );
}

/** "1 point", "2 points". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${points(n)} ${n === 1 ? one : many}`;
}

/** The letter shown on an answer option: A, B, C, … */
export function optionLetter(index: number): string {
  return String.fromCharCode(65 + index);
}

/** Why a game ended, in words. */
export function endReasonText(reason: string | null): string {
  switch (reason) {
    case "finished":
      return "All questions played.";
    case "host_ended":
      return "The host ended the game.";
    case "closed":
      return "The game was closed by an administrator.";
    case "expired":
      return "The game's time is up.";
    default:
      return "The game is over.";
  }
}

/** A mode's name for people. */
export function modeName(mode: string): string {
  switch (mode) {
    case "live":
      return "Live";
    case "quick_fire":
      return "Quick fire";
    case "self_paced":
      return "Self-paced";
    default:
      return mode;
  }
}
