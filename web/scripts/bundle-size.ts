/**
 * Measures what a page of the built web app makes a browser download: the
 * HTML, every script and stylesheet it references, and every chunk those
 * scripts import, each gzipped (level 9). `npm run size:web` prints it;
 * test/browser/bundle-size.test.ts holds the player page under 100 KB.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export interface FileSize {
  file: string;
  bytes: number;
  gzip: number;
}

export interface PageSize {
  page: string;
  files: FileSize[];
  bytes: number;
  gzip: number;
}

const ASSET_REF = /(?:src|href)="\/(assets\/[^"]+)"/g;
const IMPORT_REF = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']\.\/([^"']+\.js)["']/g;

function size(dir: string, file: string): FileSize {
  const body = readFileSync(join(dir, file));
  return { file, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
}

/** The download of `page` (e.g. "play.html") in the built app at `dir`. */
export function pageSize(dir: string, page: string): PageSize {
  const html = readFileSync(join(dir, page), "utf8");
  const seen = new Set<string>();
  const queue = [...html.matchAll(ASSET_REF)].map((m) => m[1] as string);
  const files: FileSize[] = [size(dir, page)];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(size(dir, file));
    if (file.endsWith(".js")) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const m of text.matchAll(IMPORT_REF)) queue.push(`assets/${m[1] as string}`);
    }
  }
  return {
    page,
    files,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    gzip: files.reduce((n, f) => n + f.gzip, 0),
  };
}

export const DEFAULT_DIST = fileURLToPath(new URL("../../dist/web/", import.meta.url));

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KB`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const page of ["play.html", "index.html"]) {
    const s = pageSize(DEFAULT_DIST, page);
    console.log(`${page}: ${kb(s.bytes)} raw, ${kb(s.gzip)} gzipped`);
    for (const f of s.files) console.log(`  ${f.file}  ${kb(f.bytes)} → ${kb(f.gzip)}`);
  }
}
