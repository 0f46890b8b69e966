import { InvalidCursorError } from "../stores/ports";

/** An entity-list cursor: the last name of the page, opaque to clients. */
export function encodeEntityCursor(name: string): string {
  return Buffer.from(JSON.stringify(["e", name])).toString("base64url");
}

export function decodeEntityCursor(cursor: string): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && value[0] === "e" && typeof value[1] === "string") return value[1];
  } catch {
    // falls through
  }
  throw new InvalidCursorError();
}
