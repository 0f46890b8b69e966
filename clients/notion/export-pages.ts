/**
 * Notion export files → pages. Notion names every page `Title <32 hex id>.md`, puts its sub-pages
 * in a folder `Title <id>/` beside it, and exports a database as `Name <id>.csv` (and
 * `Name <id>_all.csv`) with its rows as pages in the folder `Name <id>/`; the CSV's first column
 * is the row's title, the others its properties.
 */
import { parseCsv } from "./csv";
import type { ExportFile } from "./export-files";
import type { NotionPage, PageProblem } from "./page";

type Properties = NonNullable<NotionPage["properties"]>;

const NAMED_ID = /^(.*?)\s*([0-9a-f]{32})$/;

/** "Title 1a2b…" → {title, id}; a name without an id keeps its whole text as the title. */
export function splitName(name: string): { title: string; id?: string } {
  const m = NAMED_ID.exec(name);
  return m ? { title: m[1]!.trim() || "Untitled", id: m[2] } : { title: name.trim() || "Untitled" };
}

function stem(path: string): { dir: string; base: string; ext: string } {
  const slash = path.lastIndexOf("/");
  const file = path.slice(slash + 1);
  const dot = file.lastIndexOf(".");
  return { dir: slash < 0 ? "" : path.slice(0, slash), base: file.slice(0, dot), ext: file.slice(dot + 1).toLowerCase() };
}

/** Removes Markdown link targets to files inside the export (keeping the text) and images. */
function cleanMarkdown(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "")
    .replace(/\[([^\]]+)\]\((?![a-z]+:)[^)]*\)/gi, "$1")
    .replace(/<aside>\s*/g, "")
    .replace(/\s*<\/aside>/g, "");
}

function propertyValue(raw: string): string | number | boolean {
  const text = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(text) && text.length < 16) return Number(text);
  if (text === "Yes") return true;
  if (text === "No") return false;
  return text;
}

interface Database {
  title: string;
  /** Row title → the properties of the rows with that title, in CSV order. */
  rows: Map<string, Properties[]>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function pagesFromExport(files: ExportFile[]): { pages: NotionPage[]; problems: PageProblem[] } {
  const problems: PageProblem[] = [];
  const databases = new Map<string, Database>(); // by the folder path that holds its rows

  // `_all.csv` (every row) wins over the view's `.csv` when both exist
  const csvs = files.filter((f) => stem(f.path).ext === "csv").sort((a, b) => Number(a.path.endsWith("_all.csv")) - Number(b.path.endsWith("_all.csv")));
  for (const file of csvs) {
    const { dir, base } = stem(file.path);
    const name = base.replace(/_all$/, "");
    try {
      const [header, ...rows] = parseCsv(decoder.decode(file.bytes));
      if (!header || header.length === 0) throw new Error("it has no header row");
      const db: Database = { title: splitName(name).title, rows: new Map() };
      for (const row of rows) {
        const title = (row[0] ?? "").trim();
        const properties: Properties = {};
        header.slice(1).forEach((column, i) => {
          const value = row[i + 1];
          if (value !== undefined && value.trim() !== "") properties[column.trim()] = propertyValue(value);
        });
        const list = db.rows.get(title) ?? [];
        list.push(properties);
        db.rows.set(title, list);
      }
      databases.set(dir ? `${dir}/${name}` : name, db);
    } catch (error) {
      problems.push({ where: file.path, message: `cannot parse this database CSV: ${(error as Error).message}` });
    }
  }

  const pages: NotionPage[] = [];
  for (const file of files) {
    const { dir, base, ext } = stem(file.path);
    if (ext !== "md") continue;
    const { title: nameTitle, id } = splitName(base);
    if (!id) {
      problems.push({ where: file.path, message: "the file name carries no Notion page id (expected `Title <32 hex digits>.md`); skipped" });
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(file.bytes);
    } catch {
      problems.push({ where: file.path, message: "cannot parse this page: it is not valid UTF-8 text; skipped" });
      continue;
    }
    if (text.includes("\u0000")) {
      problems.push({ where: file.path, message: "cannot parse this page: it contains binary data; skipped" });
      continue;
    }
    const body = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
    const h1 = /^\s*# (.+)\n?/.exec(body);
    const title = (h1?.[1]?.trim() || nameTitle).normalize("NFC");
    const markdown = cleanMarkdown(h1 ? body.slice(h1[0].length) : body);
    const ancestors = dir
      .split("/")
      .filter(Boolean)
      .map(splitName)
      .filter((part) => part.id !== undefined)
      .map((part) => part.title);
    const page: NotionPage = { id, title, path: [...ancestors, title].join(" / "), markdown };
    const db = databases.get(dir);
    if (db) {
      page.database = db.title;
      const candidates = db.rows.get(title) ?? db.rows.get(nameTitle);
      const properties = candidates?.shift();
      if (properties) page.properties = properties;
    }
    pages.push(page);
  }
  for (const [dir, db] of databases) {
    for (const [title, rest] of db.rows) {
      if (rest.length > 0) problems.push({ where: `${dir}.csv`, message: `row "${title}" has no page file in the export; its properties were not imported` });
    }
  }
  pages.sort((a, b) => a.path.localeCompare(b.path) || a.id.localeCompare(b.id));
  return { pages, problems };
}
