/**
 * Joining: the PIN players type, the link and QR code the host shows, and
 * the nickname a player may take instead of typing one.
 */

/** A PIN as typed: digits only (spaces and dashes people add are dropped). */
export function normalisePin(input: string): string {
  return input.replace(/[\s-]/g, "");
}

/** P-1: six digits, the first 1–9. */
export function isValidPin(pin: string): boolean {
  return /^[1-9][0-9]{5}$/.test(pin);
}

/**
 * What to say about a PIN that cannot be one (letters, too short), in the words a wrong PIN
 * gets, so a mistyped link does not end in a protocol error.
 */
export function malformedPinText(typed: string): string {
  const shown = typed.trim().slice(0, 20);
  return shown === ""
    ? "There is no game PIN here. A game PIN is six digits, shown on the host's screen."
    : `“${shown}” is not a game PIN. A game PIN is six digits, shown on the host's screen.`;
}

/** "482913" → "482 913", easier to read off a projector. */
export function formatPin(pin: string): string {
  return pin.length === 6 ? `${pin.slice(0, 3)} ${pin.slice(3)}` : pin;
}

/** What the server says about where players can reach it (GET /web-config.json). */
export interface WebConfig {
  /** PUBLIC_URL when the operator set it, else null. */
  public_url: string | null;
  /** The server's own network addresses (e.g. "http://192.168.1.20:8080"), for phones on the same network. */
  lan_urls: string[];
  /** Whether quiz editing needs the admin token (ADMIN_TOKEN is set). */
  admin_token_required: boolean;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1|0\.0\.0\.0)$/i;

/** Whether a host name only reaches this machine. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname) || hostname.endsWith(".localhost");
}

/**
 * The address players should open. The operator's PUBLIC_URL wins; else the
 * address the host is using, unless that is "localhost", which a phone cannot
 * reach — then the server's first network address, if it has one.
 */
export function joinBase(pageOrigin: string, config: WebConfig | null): string {
  if (config?.public_url) return trimSlash(config.public_url);
  const page = new URL(pageOrigin);
  if (!isLoopback(page.hostname)) return trimSlash(page.origin);
  const lan = config?.lan_urls[0];
  return lan ? trimSlash(lan) : trimSlash(page.origin);
}

/** The link players open (and the QR code encodes): `<base>/play?pin=<pin>`. */
export function joinUrl(base: string, pin: string): string {
  return `${trimSlash(base)}/play?pin=${encodeURIComponent(pin)}`;
}

/** Whether players on other devices can probably not open `base` (it names this machine only). */
export function onlyThisMachine(base: string): boolean {
  try {
    return isLoopback(new URL(base).hostname);
  } catch {
    return false;
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

const ADJECTIVES = [
  "Brave",
  "Calm",
  "Clever",
  "Cosmic",
  "Curious",
  "Daring",
  "Eager",
  "Fancy",
  "Fearless",
  "Gentle",
  "Happy",
  "Jolly",
  "Lucky",
  "Mighty",
  "Nimble",
  "Quick",
  "Quiet",
  "Rapid",
  "Shiny",
  "Sneaky",
  "Speedy",
  "Sunny",
  "Swift",
  "Witty",
  "Zesty",
  "Bold",
  "Bright",
  "Chill",
  "Dapper",
  "Epic",
];
const ANIMALS = [
  "Otter",
  "Panda",
  "Falcon",
  "Koala",
  "Lynx",
  "Badger",
  "Dolphin",
  "Fox",
  "Gecko",
  "Hedgehog",
  "Ibis",
  "Jaguar",
  "Kiwi",
  "Lemur",
  "Moose",
  "Narwhal",
  "Owl",
  "Penguin",
  "Quokka",
  "Raccoon",
  "Seal",
  "Tiger",
  "Walrus",
  "Yak",
  "Zebra",
  "Beaver",
  "Camel",
  "Heron",
  "Puffin",
  "Tapir",
];

/**
 * A generated nickname such as "Swift Otter 42": two words and a number, at
 * most 24 characters (N-1). `random` returns numbers in [0, 1).
 */
export function randomNickname(random: () => number): string {
  const pick = <T>(list: readonly T[]): T =>
    list[Math.min(list.length - 1, Math.floor(random() * list.length))] as T;
  const n = 10 + Math.min(89, Math.floor(random() * 90));
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)} ${n}`;
}

/** N-1 as the client can check it before asking: 1–24 characters after trimming, no controls. */
export function nicknameProblem(raw: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what N-1 forbids
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/.test(raw)) {
    return "Nicknames cannot contain special control characters.";
  }
  const name = raw.replace(/\s+/g, " ").trim();
  const length = [...name].length;
  if (length === 0) return "Type a nickname, or pick one for me.";
  if (length > 24) return "Nicknames are at most 24 characters.";
  return null;
}
