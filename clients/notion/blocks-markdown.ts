/**
 * Notion API blocks and properties → Markdown and plain values. Only the fields read here are
 * typed; they follow the documented JSON shapes (https://developers.notion.com/reference/block).
 */

export interface RichText {
  plain_text: string;
}

export interface NotionBlock {
  id: string;
  type: string;
  has_children: boolean;
  /** The type's payload sits under the key named by `type`. */
  [payload: string]: unknown;
}

export const plain = (rich: RichText[] | undefined) => (rich ?? []).map((r) => r.plain_text).join("");

interface TextPayload {
  rich_text?: RichText[];
  checked?: boolean;
  language?: string;
  title?: string;
  url?: string;
  expression?: string;
  cells?: RichText[][];
  caption?: RichText[];
}

/** One block as Markdown (without its children); "" for blocks that carry no text. */
export function blockMarkdown(block: NotionBlock, numberInList: number): string {
  const p = (block[block.type] ?? {}) as TextPayload;
  const text = plain(p.rich_text);
  switch (block.type) {
    case "paragraph":
      return text;
    case "heading_1":
      return `# ${text}`;
    case "heading_2":
      return `## ${text}`;
    case "heading_3":
      return `### ${text}`;
    case "bulleted_list_item":
      return `- ${text}`;
    case "numbered_list_item":
      return `${numberInList}. ${text}`;
    case "to_do":
      return `- [${p.checked ? "x" : " "}] ${text}`;
    case "toggle":
      return `- ${text}`;
    case "quote":
    case "callout":
      return text ? `> ${text}` : "";
    case "code":
      return `\`\`\`${p.language ?? ""}\n${text}\n\`\`\``;
    case "equation":
      return p.expression ? `$$${p.expression}$$` : "";
    case "table_row":
      return `| ${(p.cells ?? []).map(plain).join(" | ")} |`;
    case "bookmark":
    case "embed":
    case "link_preview":
      return p.url ? `${plain(p.caption) || p.url} (${p.url})` : "";
    default:
      // child_page / child_database are pages of their own; images, dividers… carry no text
      return "";
  }
}

/** Blocks (with their children already attached) → Markdown, children indented under lists. */
export function blocksMarkdown(blocks: (NotionBlock & { children?: NotionBlock[] })[], depth = 0): string {
  const out: string[] = [];
  let number = 0;
  for (const block of blocks) {
    number = block.type === "numbered_list_item" ? number + 1 : 0;
    const line = blockMarkdown(block, number);
    const indent = "  ".repeat(depth);
    if (block.type === "table") {
      const rows = (block.children ?? []).map((row) => blockMarkdown(row, 0));
      if (rows.length > 0) out.push(rows.join("\n"));
      continue;
    }
    if (line) out.push(indent + line.replaceAll("\n", `\n${indent}`));
    if (block.children && block.children.length > 0) {
      const nested = blocksMarkdown(block.children, /list_item|to_do|toggle/.test(block.type) ? depth + 1 : depth);
      if (nested) out.push(nested);
    }
  }
  // list items sit on consecutive lines; every other block is a paragraph of its own
  return out.join("\n\n").replace(/\n\n(?=\s*(- |\d+\. ))/g, "\n");
}

interface PropertyValue {
  type: string;
  [payload: string]: unknown;
}

/**
 * A page property → a plain metadata value; undefined when empty or not representable. Lists
 * (multi-select, people) are joined with ", " as Notion's CSV export writes them, so a page has
 * the same metadata whichever way it was imported (and metadata filters, which compare scalars,
 * work on them).
 */
export function propertyPlainValue(property: PropertyValue): string | number | boolean | undefined {
  const v = property[property.type];
  switch (property.type) {
    case "title":
    case "rich_text":
      return plain(v as RichText[]) || undefined;
    case "number":
      return typeof v === "number" ? v : undefined;
    case "checkbox":
      return v === true;
    case "select":
    case "status":
      return (v as { name?: string } | null)?.name ?? undefined;
    case "multi_select": {
      const names = ((v as { name: string }[] | null) ?? []).map((o) => o.name);
      return names.length > 0 ? names.join(", ") : undefined;
    }
    case "date":
      return (v as { start?: string } | null)?.start ?? undefined;
    case "url":
    case "email":
    case "phone_number":
    case "created_time":
    case "last_edited_time":
      return typeof v === "string" && v ? v : undefined;
    case "people": {
      const names = ((v as { name?: string }[] | null) ?? []).map((p) => p.name ?? "").filter(Boolean);
      return names.length > 0 ? names.join(", ") : undefined;
    }
    case "formula": {
      const f = v as { type: string; [k: string]: unknown } | null;
      const value = f ? f[f.type] : undefined;
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : undefined;
    }
    default:
      return undefined;
  }
}
