import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../src/domain/errors.js";

const DOC_URL = new URL("../../docs/errors.md", import.meta.url);

/** The sections of docs/errors.md headed "## `CODE`", by code. */
async function sections(): Promise<Map<string, string>> {
  const text = await readFile(DOC_URL, "utf8");
  const out = new Map<string, string>();
  const parts = text.split(/^## /m).slice(1);
  for (const part of parts) {
    const m = /^`([A-Z_]+)`\s*\n/.exec(part);
    if (m?.[1]) out.set(m[1], part);
  }
  return out;
}

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe("docs/errors.md", () => {
  it("has a section for every error code and none for codes that do not exist", async () => {
    const doc = await sections();
    expect([...doc.keys()].sort()).toEqual([...CODES].sort());
  });

  it.each(CODES)("%s: its section states the code's HTTP status and retryability", async (code) => {
    const section = (await sections()).get(code) ?? "";
    const status = /^\| HTTP status \| (\d{3}) \|$/m.exec(section)?.[1];
    const retryable = /^\| retryable \| (yes|no) \|$/m.exec(section)?.[1];
    expect(status, `${code}: HTTP status row`).toBe(String(ERROR_CODES[code].status));
    expect(retryable, `${code}: retryable row`).toBe(ERROR_CODES[code].retryable ? "yes" : "no");
    expect(section, `${code}: meaning row`).toMatch(/^\| meaning \| .+ \|$/m);
  });

  it("describes both shapes an error takes: the REST body and the WebSocket frame", async () => {
    const text = await readFile(DOC_URL, "utf8");
    expect(text).toMatch(/^## REST error body$/m);
    expect(text).toMatch(/^## WebSocket error frame$/m);
    for (const field of ["`code`", "`message`", "`reason`", "`issues`", "`retry_after_ms`"]) {
      expect(text).toContain(field);
    }
    for (const field of ["`data.code`", "`data.msg`", "`data.retryable`"])
      expect(text).toContain(field);
  });
});
