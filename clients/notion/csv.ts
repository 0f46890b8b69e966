import { parse } from "csv-parse/sync";

/**
 * A database's CSV as Notion exports it (RFC 4180: quoted fields, doubled quotes, CRLF or LF, a
 * leading BOM) → rows of fields. Rows may be shorter than the header; blank lines are skipped; a
 * stray quote inside an unquoted field is kept as text. Throws on a quote left open.
 */
export function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true });
}
