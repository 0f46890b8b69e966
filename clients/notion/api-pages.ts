/**
 * Pages from Notion's public API (@notionhq/client, API version 2025-09-03): every page and data
 * source shared with the integration (`search`, paginated), every row of those data sources
 * (`dataSources.query`, the current name of "database query"), and each page's blocks
 * (`blocks.children.list`, recursively). Requests are spaced to the documented average of
 * 3 per second; a 429 is retried after its Retry-After by the client.
 */
import { Client, LogLevel } from "@notionhq/client";
import { blocksMarkdown, plain, propertyPlainValue, type NotionBlock, type RichText } from "./blocks-markdown";
import { normalizePageId, type NotionPage, type PageProblem } from "./page";

interface Parent {
  type: string;
  page_id?: string;
  database_id?: string;
  data_source_id?: string;
}

interface PageObject {
  object: "page";
  id: string;
  parent: Parent;
  in_trash?: boolean;
  archived?: boolean;
  properties: Record<string, { type: string; [k: string]: unknown }>;
}

interface DataSourceObject {
  object: "data_source";
  id: string;
  title: RichText[];
  /** The database the data source belongs to. */
  parent?: Parent;
  /** The database's own parent (a page, usually). */
  database_parent?: Parent;
}

interface List<T> {
  results: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface NotionApiOptions {
  token: string;
  /** Notion's API by default; the tests point it at a local server of recorded answers. */
  baseUrl?: string;
  requestsPerSecond: number;
  maxRetries: number;
  /** Told of every 429 Notion answers (the client then waits its Retry-After). */
  onRateLimited?: (retryAfter: string | null) => void;
}

/** fetch, spaced so that requests start at most `perSecond` times a second. */
export function throttledFetch(perSecond: number, onResponse: (response: Response) => void): typeof fetch {
  const gapMs = 1000 / perSecond;
  let next = 0;
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + gapMs;
    if (at > now) await Bun.sleep(at - now);
    const response = await fetch(input, init);
    onResponse(response);
    return response;
  };
  return wrapped as typeof fetch;
}

export function notionClient(options: NotionApiOptions): Client {
  return new Client({
    auth: options.token,
    baseUrl: options.baseUrl,
    fetch: throttledFetch(options.requestsPerSecond, (response) => {
      if (response.status === 429) options.onRateLimited?.(response.headers.get("retry-after"));
    }),
    retry: { maxRetries: options.maxRetries, initialRetryDelayMs: 1000, maxRetryDelayMs: 60_000 },
    // errors reach the caller as exceptions; the client's own console logging would garble the progress bar
    logLevel: LogLevel.ERROR,
    logger: () => {},
  });
}

async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<List<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.results;
    cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (cursor);
}

async function blockTree(client: Client, blockId: string): Promise<(NotionBlock & { children?: NotionBlock[] })[]> {
  const blocks: (NotionBlock & { children?: NotionBlock[] })[] = [];
  for await (const block of paginate((cursor) =>
    client.blocks.children.list({ block_id: blockId, start_cursor: cursor, page_size: 100 }) as unknown as Promise<List<NotionBlock>>,
  )) {
    const descend = block.has_children && block.type !== "child_page" && block.type !== "child_database";
    blocks.push(descend ? { ...block, children: await blockTree(client, block.id) } : block);
  }
  return blocks;
}

const titleOf = (page: PageObject) => {
  const title = Object.values(page.properties).find((p) => p.type === "title");
  return (title ? plain(title.title as RichText[]) : "").trim() || "Untitled";
};

export interface ApiPages {
  total: number;
  pages: AsyncGenerator<NotionPage>;
}

/** Lists what is shared (fast), then yields each page with its blocks (one or more requests each). */
export async function pagesFromNotionApi(client: Client, problems: PageProblem[]): Promise<ApiPages> {
  const pageObjects = new Map<string, PageObject>();
  const dataSources = new Map<string, DataSourceObject>();
  const searchAll = <T>(value: "page" | "data_source") =>
    paginate((cursor) =>
      client.search({ filter: { property: "object", value }, start_cursor: cursor, page_size: 100 }) as unknown as Promise<List<T>>,
    );
  for await (const page of searchAll<PageObject>("page")) pageObjects.set(page.id, page);
  for await (const source of searchAll<DataSourceObject>("data_source")) dataSources.set(source.id, source);
  for (const source of dataSources.values()) {
    for await (const row of paginate((cursor) =>
      client.dataSources.query({ data_source_id: source.id, start_cursor: cursor, page_size: 100 }) as unknown as Promise<List<PageObject>>,
    )) {
      pageObjects.set(row.id, row);
    }
  }
  const live = [...pageObjects.values()].filter((p) => !p.in_trash && !p.archived);

  const sourceOf = (parent: Parent): DataSourceObject | undefined =>
    parent.data_source_id ? dataSources.get(parent.data_source_id) : [...dataSources.values()].find((s) => s.parent?.database_id === parent.database_id);
  const dataSourceTitle = (parent: Parent) => {
    const source = sourceOf(parent);
    return source ? plain(source.title).trim() || "Untitled database" : undefined;
  };
  const pathOf = (page: PageObject): string[] => {
    const parts = [titleOf(page)];
    let parent: Parent | undefined = page.parent;
    for (let hops = 0; parent && hops < 32; hops++) {
      if (parent.type === "page_id" && parent.page_id && pageObjects.has(parent.page_id)) {
        const up: PageObject = pageObjects.get(parent.page_id)!;
        parts.unshift(titleOf(up));
        parent = up.parent;
      } else if (parent.type === "data_source_id" || parent.type === "database_id") {
        const title = dataSourceTitle(parent);
        if (title) parts.unshift(title);
        const source = sourceOf(parent);
        // the page holding the database: `database_parent` (API 2025-09-03), `parent` before it
        parent = [source?.database_parent, source?.parent].find((p): p is Parent => p?.type === "page_id");
      } else parent = undefined;
    }
    return parts;
  };

  async function* pages(): AsyncGenerator<NotionPage> {
    for (const object of live) {
      const id = normalizePageId(object.id);
      if (!id) {
        problems.push({ where: object.id, message: "not a Notion page id; skipped" });
        continue;
      }
      const title = titleOf(object);
      let markdown: string;
      try {
        markdown = blocksMarkdown(await blockTree(client, object.id));
      } catch (error) {
        problems.push({ where: `page "${title}" (${object.id})`, message: `cannot read its blocks: ${(error as Error).message}` });
        continue;
      }
      const page: NotionPage = { id, title, path: pathOf(object).join(" / "), markdown };
      if (object.parent.type === "data_source_id" || object.parent.type === "database_id") {
        page.database = dataSourceTitle(object.parent);
        const properties: NonNullable<NotionPage["properties"]> = {};
        for (const [name, property] of Object.entries(object.properties)) {
          if (property.type === "title") continue;
          const value = propertyPlainValue(property);
          if (value !== undefined) properties[name] = value;
        }
        page.properties = properties;
      }
      yield page;
    }
  }
  return { total: live.length, pages: pages() };
}
