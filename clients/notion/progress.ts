/** A progress bar on a terminal; a line every ~10% when the output is a file or a pipe. */
import type { ImportProgress } from "./importer";

export function progressPrinter(write: (text: string) => void, isTty: boolean): (p: ImportProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const rate = p.written / Math.max(p.elapsedMs / 1000, 1e-3);
    const counts = `${p.pagesDone}${p.pagesTotal !== undefined ? `/${p.pagesTotal}` : ""} pages, ${p.chunks} chunks, ${rate.toFixed(0)} memories/s`;
    if (isTty && p.pagesTotal) {
      const width = 30;
      const filled = Math.round((p.pagesDone / Math.max(p.pagesTotal, 1)) * width);
      write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${counts}   `);
      return;
    }
    const decile = p.pagesTotal ? Math.floor((p.pagesDone / Math.max(p.pagesTotal, 1)) * 10) : Math.floor(p.pagesDone / 100);
    if (decile !== lastDecile) {
      lastDecile = decile;
      write(`progress: ${counts}\n`);
    }
  };
}
