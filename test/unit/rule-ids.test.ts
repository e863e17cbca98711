/**
 * The rule book and the contract suites name their promises with IDs (docs/rules.md: M-1, T-1,
 * S-1, …; the contracts' tables of contents: ST-…, CL-…), and tests quote the IDs they hold in
 * their names (STYLE §9). This keeps the two honest: every ID has at least one test, and no
 * test quotes an ID that is not defined, so `grep -rn "T-3" test/` always finds the tests of T-3.
 */
import { describe, expect, it } from "vitest";
import { readRepoFile } from "../support/doc-check.js";
import { type TestTitle, testTitles, titlesIn } from "../support/test-titles.js";

/** The IDs `- **X-n**` bullets define in docs/rules.md, in order. */
function ruleIds(markdown: string): string[] {
  return [...markdown.matchAll(/^- \*\*([A-Z]-\d+)\b/gm)].map((m) => m[1]!);
}

/** The clause IDs listed in the table of contents (the first doc comment) of a contract file. */
function clauseIds(source: string): string[] {
  const toc = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
  return [...toc.matchAll(/^ \* {3}([A-Z]{2}-[A-Z]?\d+) {2,}\S/gm)].map((m) => m[1]!);
}

/** Each ID `shape` finds in a title, with the titles quoting it. */
function quoted(titles: TestTitle[], shape: RegExp): Map<string, TestTitle[]> {
  const out = new Map<string, TestTitle[]>();
  for (const t of titles) {
    for (const m of t.text.matchAll(shape)) out.set(m[0], [...(out.get(m[0]) ?? []), t]);
  }
  return out;
}

const where = (quoting: TestTitle[]) =>
  quoting.map((t) => `${t.file}:${t.line} "${t.text}"`).join("\n  ");

/** Defined IDs with no test, and quoted IDs that are not defined (with where they are quoted). */
function mismatches(defined: string[], titles: TestTitle[], shape: RegExp) {
  const byId = quoted(titles, shape);
  return {
    untested: defined.filter((id) => !byId.has(id)),
    unknown: [...byId]
      .filter(([id]) => !defined.includes(id))
      .map(([id, quoting]) => `${id}, quoted by\n  ${where(quoting)}`),
  };
}

const titles = testTitles();

/** A rule ID's shape: one capital, a dash, a number (two capitals are a contract clause). */
const RULE_ID = /\b[A-Z]-\d+\b/g;

const CONTRACTS = [
  { file: "test/contract/storage-contract.ts", family: "ST" },
  { file: "test/contract/cluster-contract.ts", family: "CL" },
];

describe("rule IDs in test names (docs/rules.md)", () => {
  const rules = ruleIds(readRepoFile("docs/rules.md"));

  it("the rule book defines each ID once, and its parse finds them", () => {
    expect(rules.filter((id, i) => rules.indexOf(id) !== i)).toEqual([]);
    // If these fail, the rule book's bullets changed shape: fix ruleIds, not the book.
    expect(rules.length).toBeGreaterThan(30);
    expect(rules).toContain("M-1");
    expect(rules).toContain("R-6");
  });

  it("every rule has at least one test quoting its ID", () => {
    expect(mismatches(rules, titles, RULE_ID).untested, "rules no test name quotes").toEqual([]);
  });

  it("no test quotes a rule ID the rule book does not define", () => {
    expect(mismatches(rules, titles, RULE_ID).unknown).toEqual([]);
  });
});

describe.each(CONTRACTS)("clause IDs of $file", ({ file, family }) => {
  const clauses = clauseIds(readRepoFile(file));
  const shape = new RegExp(String.raw`\b${family}-[A-Z]?\d+\b`, "g");

  it("its table of contents lists each clause once, all of one family", () => {
    expect(clauses.filter((id, i) => clauses.indexOf(id) !== i)).toEqual([]);
    expect(clauses.length).toBeGreaterThan(10);
    expect(clauses.filter((id) => !id.startsWith(`${family}-`))).toEqual([]);
  });

  it("every clause has at least one test naming it", () => {
    expect(mismatches(clauses, titles, shape).untested, "clauses no test name quotes").toEqual([]);
  });

  it("no test names a clause the table of contents does not list", () => {
    expect(mismatches(clauses, titles, shape).unknown).toEqual([]);
  });
});

describe("test titles read from source", () => {
  it("finds titles in every form the tests write them, and nothing else", () => {
    const source = [
      'describe("block", () => {',
      '  it("plain", () => {});',
      "  it('single quoted', () => {});",
      "  test(`template without substitutions`, () => {});",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a template literal, on purpose
      "  it(`with ${x} substituted`, () => {});",
      // A line of the fixture source the title reader must recognise, not a skipped test.
      '  it.skip("skipped", () => {});',
      '  it.each([["table entry"]])("each %s", () => {});',
      '  describe.skipIf(missing)(needs.title("through a call"), () => {});',
      '  browserDescribe("browser block", () => {});',
      "  it(variable, () => {});",
      '  expect(value, "not a title").toBe(1);',
      "});",
    ].join("\n");
    expect(titlesIn(source, "inline.ts").map((t) => [t.line, t.text])).toEqual([
      [1, "block"],
      [2, "plain"],
      [3, "single quoted"],
      [4, "template without substitutions"],
      [5, "with … substituted"],
      [6, "skipped"],
      [7, "each %s"],
      [8, "through a call"],
      [9, "browser block"],
    ]);
  });

  it("finds the titles of the whole test tree", () => {
    const files = new Set(titles.map((t) => t.file));
    expect(files.size).toBeGreaterThan(50);
    expect(titles.length).toBeGreaterThan(500);
  });
});
