/** The database CSV reader's options: what a Notion export holds parses as before. */
import { describe, expect, test } from "bun:test";
import { parseCsv } from "../../../clients/notion/csv";

describe("parseCsv", () => {
  test("quoted fields, doubled quotes and multi-line cells; CRLF or LF; a leading BOM", () => {
    const text = '\ufeffName,Tags,Notes\r\nBilling,"payments, backend","say ""hi""\r\nthen leave"\r\nApp,ios,\r\n';
    expect(parseCsv(text)).toEqual([
      ["Name", "Tags", "Notes"],
      ["Billing", "payments, backend", 'say "hi"\r\nthen leave'],
      ["App", "ios", ""],
    ]);
    expect(parseCsv("a,b\n1,2")).toEqual([["a", "b"], ["1", "2"]]);
  });

  test("short rows are kept, blank lines skipped, a stray quote inside a field is text", () => {
    expect(parseCsv('Name,Status,Owner\n\nOffice Move\nBudget 5" screens,Done,Ana\n\n')).toEqual([
      ["Name", "Status", "Owner"],
      ["Office Move"],
      ['Budget 5" screens', "Done", "Ana"],
    ]);
  });

  test("a quote left open is an error naming the line", () => {
    expect(() => parseCsv('Name,Notes\nx,"never closed\n')).toThrow(/Quote Not Closed.*line 2/);
  });
});
