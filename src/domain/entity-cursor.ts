import { InvalidCursorError } from "./errors";
import type { EntityInfo } from "./graph";
import type { Page } from "./memory";

/**
 * An entity-list cursor: the last name of the page, base64url-encoded. Any string of the
 * documented form is a valid cursor (the page starts after whatever name it decodes to).
 */
export const ENTITY_CURSOR_PATTERN = "^[A-Za-z0-9_-]{1,1024}$";
const ENTITY_CURSOR = new RegExp(ENTITY_CURSOR_PATTERN);

export function encodeEntityCursor(name: string): string {
  return Buffer.from(name, "utf8").toString("base64url");
}

export function decodeEntityCursor(cursor: string): string {
  if (!ENTITY_CURSOR.test(cursor)) throw new InvalidCursorError();
  return Buffer.from(cursor, "base64url").toString("utf8");
}

/** One page of a name-ordered entity listing, from the page's rows plus one (which says there is more). */
export function entityPage(rows: EntityInfo[], limit: number): Page<EntityInfo> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeEntityCursor(last.name) : null };
}
