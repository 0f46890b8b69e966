/**
 * The files of a Notion "Markdown & CSV" export, from its .zip (zips nested inside it, as Notion
 * makes for large workspaces, are opened too) or from the folder it was unpacked into.
 * Only .md and .csv files matter; images and other attachments are skipped.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { unzipSync } from "fflate";

export interface ExportFile {
  /** Path inside the export, "/"-separated, NFC. */
  path: string;
  bytes: Uint8Array;
}

export class ExportError extends Error {}

const WANTED = /\.(md|csv|zip)$/i;

function fromZip(data: Uint8Array, label: string, prefix = ""): ExportFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data, { filter: (file) => WANTED.test(file.name) });
  } catch (error) {
    throw new ExportError(`${label} is not a readable zip archive (${(error as Error).message})`);
  }
  const files: ExportFile[] = [];
  for (const [name, bytes] of Object.entries(entries)) {
    if (name.endsWith("/")) continue;
    const path = (prefix + name).normalize("NFC");
    if (/\.zip$/i.test(name)) files.push(...fromZip(bytes, `${label} › ${name}`, ""));
    else files.push({ path, bytes });
  }
  return files;
}

function fromFolder(root: string): ExportFile[] {
  const files: ExportFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && WANTED.test(entry.name)) {
        if (/\.zip$/i.test(entry.name)) files.push(...fromZip(readFileSync(full), full));
        else files.push({ path: relative(root, full).split(sep).join("/").normalize("NFC"), bytes: readFileSync(full) });
      }
    }
  };
  walk(root);
  return files;
}

/** Reads an export; throws ExportError with a message naming the path when it cannot. */
export function readExport(path: string): ExportFile[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new ExportError(`${path} does not exist`);
  }
  if (stats.isDirectory()) return fromFolder(path);
  if (!stats.isFile()) throw new ExportError(`${path} is neither a file nor a folder`);
  return fromZip(readFileSync(path), path);
}
