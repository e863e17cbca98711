/**
 * A message's identity (A-6: the replay window's key and the session owner's dedupe key) from its
 * parts, joined with `:` into one flat string. Built with `+` or a template literal, a key is a
 * tree of V8's concatenated strings, and kept as a `Map` key for the replay window it stays one:
 * two keys per answer were 9 string nodes of 32 bytes each, beside their pieces, in two heap
 * snapshots of a 10,000-player game (issue 10's note of 2026-12-07). `join` writes one string,
 * parts that are themselves built with templates included.
 */
export function messageKey(...parts: ReadonlyArray<string | number>): string {
  return parts.join(":");
}
