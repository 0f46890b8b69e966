/** One Notion page as the importer sees it, whatever it came from (an export or the API). */
export interface NotionPage {
  /** Notion's page id: 32 lowercase hex digits, no dashes (the same from an export and the API). */
  id: string;
  title: string;
  /** Titles of the ancestors and the page, joined with " / ". */
  path: string;
  /** The page body as Markdown (without the title heading). */
  markdown: string;
  /** A database row's properties (name → plain value); absent for a plain page. */
  properties?: Record<string, string | number | boolean>;
  /** The title of the database the page is a row of. */
  database?: string;
}

/** A page that could not be read; the import goes on without it and reports it by name. */
export interface PageProblem {
  /** The file (export) or page id (API) concerned. */
  where: string;
  message: string;
}

const HEX32 = /^[0-9a-f]{32}$/;

/** "1a2b…" (32 hex) or a dashed UUID → 32 lowercase hex digits; undefined when it is neither. */
export function normalizePageId(raw: string): string | undefined {
  const id = raw.replaceAll("-", "").toLowerCase();
  return HEX32.test(id) ? id : undefined;
}
