/**
 * The key under which a schema carries the exact form it documents when the route validates it
 * more loosely and checks the rest by hand, with messages that name the failing key (search
 * filters). completeDocument (openapi.ts) puts the documented form in /openapi.json.
 */
export const DOCUMENTED_AS = "x-documented-as";

/** `schema`, documented in /openapi.json as `documented`, which must accept exactly what the route accepts. */
export function documentedAs<S extends object>(schema: S, documented: object): S {
  return Object.assign(schema, { [DOCUMENTED_AS]: JSON.parse(JSON.stringify(documented)) as unknown });
}
