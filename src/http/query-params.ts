import { t } from "elysia";
import { invalidField } from "./problem";

/** Largest page a list route serves. */
export const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;

/**
 * `limit` stays a string in the schema: Elysia coerces numeric query parameters one by one and
 * its error then no longer says which parameter failed, so the route parses it (parsePageSize).
 * The pattern is exactly what parsePageSize accepts, so the OpenAPI document does not promise
 * more than the route takes.
 */
export const PageSizeParam = t.String({
  pattern: "^(?:[1-9][0-9]{0,2}|1000)$",
  description: `page size, 1-${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
});

export function parsePageSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const value = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PAGE_SIZE)) {
    throw invalidField("query.limit", `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return value;
}
