/** A client frame read as JSON, or what stopped it, for the dialect to put in its own words. */
export type JsonFrame =
  | { ok: true; value: unknown }
  | { ok: false; problem: "binary" | "too_large" | "not_json"; bytes: number };

/** The checks every dialect makes first, in this order: text, size, JSON. */
export function readJsonFrame(data: Buffer, isBinary: boolean, maxBytes: number): JsonFrame {
  const bytes = data.length;
  if (isBinary) return { ok: false, problem: "binary", bytes };
  if (bytes > maxBytes) return { ok: false, problem: "too_large", bytes };
  try {
    return { ok: true, value: JSON.parse(data.toString("utf8")) };
  } catch {
    return { ok: false, problem: "not_json", bytes };
  }
}
