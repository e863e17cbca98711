/**
 * The titles of the tests as written in their source: what `it`, `test` and `describe` (and
 * their `.skip`, `.each(…)`, `.skipIf(…)` forms) are given, read with the TypeScript parser
 * rather than by running the suites, so a check over them sees every file at once, skipped
 * suites included.
 *
 * A title is the text of the string literals in the title argument: `"…"`, `'…'` and template
 * literals, whose substitutions stand as "…" (`cluster contract: ${name}` is "cluster contract:
 * …"); a literal passed through a call counts too (`needs.title("postgres")`). A title held in a
 * variable is not seen.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** One title: where it is written, and its text. */
export interface TestTitle {
  /** The file, relative to the repository root. */
  file: string;
  line: number;
  text: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Functions whose first argument is a test's or a block's title. */
const REGISTER = new Set(["it", "test", "describe", "browserDescribe"]);

/** `it.each(table)`, `describe.skipIf(cond)`, …: calls whose arguments are not a title. */
const MODIFIER_CALLS = new Set(["each", "for", "skipIf", "runIf"]);

/** The identifier a callee chain starts from: `it` for `it.skip`, `it.each(x)`, `it.skipIf(c)`. */
function rootName(callee: ts.Expression): string | undefined {
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee) || ts.isCallExpression(callee)) {
    return rootName(callee.expression);
  }
  return undefined;
}

function literalText(node: ts.Node): string {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    return [node.head.text, ...node.templateSpans.map((s) => `…${s.literal.text}`)].join("");
  }
  const parts: string[] = [];
  node.forEachChild((child) => {
    const text = literalText(child);
    if (text !== "") parts.push(text);
  });
  return parts.join("…");
}

/** The titles in one file's source (`file` names it in the results). */
export function titlesIn(source: string, file: string): TestTitle[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: TestTitle[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = node.expression;
      const modifier =
        ts.isPropertyAccessExpression(callee) && MODIFIER_CALLS.has(callee.name.text);
      const name = rootName(callee);
      if (!modifier && name !== undefined && REGISTER.has(name)) {
        const text = literalText(node.arguments[0]!);
        if (text !== "") {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          out.push({ file, line, text });
        }
      }
    }
    node.forEachChild(visit);
  };
  visit(sf);
  return out;
}

/** The titles of every TypeScript file under `dir` (relative to the repository root). */
export function testTitles(dir = "test"): TestTitle[] {
  const base = join(ROOT, dir);
  return (readdirSync(base, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .flatMap((f) => {
      const path = join(base, f);
      return titlesIn(readFileSync(path, "utf8"), relative(ROOT, path));
    });
}
