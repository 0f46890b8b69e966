/**
 * The Notion importer's database CSV parsing with csv-parse against the hand-written RFC 4180
 * parser it replaced, on a generated `_all.csv` of 20,000 rows (quoted lists, doubled quotes,
 * multi-line cells, CRLF and a BOM, as Notion writes them): the same rows, and the time.
 *   bun run bench/experiments/notion-csv.ts
 *
 * 2026-12-04, this 2-core box under load (load average 10-16), five runs: hand-written 84-240 ms,
 * csv-parse 137-194 ms per 20,000 rows; the same rows. Either is noise beside the import itself
 * (a 1,000-page export takes ~130 s to embed): csv-parse stays, a maintained parser instead of ours.
 */
import { parseCsv } from "../../clients/notion/csv";

const ROWS = 20_000;
const ROUNDS = 5;

function handWritten(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), (row = []), (field = "");
    } else field += c;
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length > 0) row.push(field), rows.push(row);
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

const cell = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const lines = ["Name,Status,Owner,Budget,Tags,Notes"];
for (let i = 0; i < ROWS; i++) {
  const notes = i % 7 === 0 ? `first line of ${i}\nsecond "quoted" line` : i % 3 === 0 ? "" : `note ${i}, with a comma`;
  lines.push([`Project ${i}`, i % 2 ? "Done" : "In progress", `Owner ${i % 97}`, String(i * 100), "payments, backend, ios", notes].map(cell).join(","));
}
const text = `\ufeff${lines.join("\r\n")}\r\n`;

const expected = JSON.stringify(handWritten(text));
if (JSON.stringify(parseCsv(text)) !== expected) throw new Error("csv-parse and the hand-written parser disagree");
for (const [label, parse] of [["hand-written", handWritten], ["csv-parse", parseCsv]] as const) {
  parse(text); // warm-up
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) parse(text);
  const ms = (performance.now() - started) / ROUNDS;
  console.log(`${label.padEnd(12)} ${ms.toFixed(1).padStart(6)} ms per parse of ${ROWS} rows (${(text.length / 1e6).toFixed(2)} MB): ${((ROWS / ms) * 1000).toFixed(0)} rows/s`);
}
