import ExcelJS from "exceljs";
import type { SessionResults } from "../../services/results.js";
import {
  RESULTS_CSV_COLUMNS,
  RESULTS_SUMMARY_COLUMNS,
  resultsAnswerRows,
  resultsSummaryRows,
} from "../schemas/results.js";

/** The media type of an Office Open XML workbook. */
export const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** Columns that hold numbers: written as numbers so a spreadsheet can sort and sum them. */
const NUMERIC = new Set<string>([
  "rank",
  "score",
  "correct",
  "answered",
  "questions",
  "average_time_s",
  "question",
  "points",
  "time_ms",
]);

function addSheet(
  book: ExcelJS.Workbook,
  name: string,
  columns: readonly string[],
  rows: string[][],
): void {
  const sheet = book.addWorksheet(name, { views: [{ state: "frozen", ySplit: 1 }] });
  sheet.columns = columns.map((key) => ({
    header: key,
    key,
    width: Math.max(10, key.length + 2),
  }));
  sheet.getRow(1).font = { bold: true };
  for (const row of rows) {
    // Cells are values, never formulas: a name such as "=1+1" stays text (exceljs writes a
    // formula only for { formula } objects).
    sheet.addRow(
      row.map((cell, i) => {
        const key = columns[i] ?? "";
        if (cell === "") return null;
        if (key === "correct" && (cell === "true" || cell === "false")) return cell === "true";
        return NUMERIC.has(key) && Number.isFinite(Number(cell)) ? Number(cell) : cell;
      }),
    );
  }
  for (const column of ["name", "question_text", "answer"]) {
    const i = columns.indexOf(column);
    if (i >= 0) sheet.getColumn(i + 1).width = column === "name" ? 24 : 40;
  }
}

/**
 * A session's results as an .xlsx workbook: a "Summary" sheet (one row per player) and an
 * "Answers" sheet (one row per player and question), with the same columns as the CSV tables.
 */
export async function toResultsXlsx(r: SessionResults): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = "quizwire";
  book.title = r.session.title;
  addSheet(book, "Summary", RESULTS_SUMMARY_COLUMNS, resultsSummaryRows(r));
  addSheet(book, "Answers", RESULTS_CSV_COLUMNS, resultsAnswerRows(r));
  return Buffer.from(await book.xlsx.writeBuffer());
}
