import type { ApiKeyScope } from "../domain/api-key";
import { ProblemError } from "../http/problem";
import type { KeyGrant, Principal } from "./claims";

/**
 * What an API key may reach, decided from the route alone so that every route (today's and
 * tomorrow's) is covered: reading is GET and POST /v1/search; /v1/keys and webhooks need admin; any other
 * /v1 method writes. A route outside /v1 (e.g. /mcp) needs admin until it checks each of its
 * operations itself with `requireScope` / `requireCollection`.
 */
export function requiredScope(method: string, route: string): ApiKeyScope {
  if (route === "/v1/keys" || route.startsWith("/v1/keys/")) return "admin";
  // a webhook sends every future change of a collection to a URL: as much as reading it all, and
  // a lasting grant, so only a key that may manage credentials may manage webhooks
  if (/^\/v1\/collections\/[^/]+\/webhooks(\/|$)/.test(route)) return "admin";
  if (method === "GET" || method === "HEAD") return "read";
  if (method === "POST" && route === "/v1/search") return "read";
  // MCP messages only read; each tool call is a request to the API's own routes with the same
  // credentials, so a write tool still needs the write scope there.
  if (route === "/mcp") return "read";
  if (route.startsWith("/v1/")) return "write";
  return "admin";
}

export const hasScope = (key: KeyGrant, scope: ApiKeyScope) => key.scopes.includes(scope) || key.scopes.includes("admin");

/** Whether the principal may reach a collection (a JWT, or a key without an allow-list: every one of the owner's). */
export function collectionAllowed(principal: Principal, collectionId: string): boolean {
  const allowed = principal.key?.collections;
  return allowed == null || allowed.includes(collectionId);
}

const forbidden = (detail: string) => new ProblemError(403, "forbidden", detail);

/** 403 unless the principal's key (if any) has `scope`; `action` words the denial ("POST /v1/search"). */
export function requireScope(principal: Principal, scope: ApiKeyScope, action: string): void {
  const key = principal.key;
  if (key === undefined || hasScope(key, scope)) return;
  throw forbidden(`this API key has the ${key.scopes.join(", ")} scope${key.scopes.length > 1 ? "s" : ""}; ${action} needs the ${scope} scope`);
}

/** 403 unless the principal may reach the collection. */
export function requireCollection(principal: Principal, collectionId: string): void {
  if (collectionAllowed(principal, collectionId)) return;
  const n = principal.key!.collections!.length;
  throw forbidden(`this API key is limited to ${n} collection${n === 1 ? "" : "s"}; ${collectionId} is not one of them`);
}

/**
 * The auth plugin's check of a key-authenticated request: the route's scope, then the collection
 * it names (path `collection_id`, or `collection_id` in the body as search has it). A key with an
 * allow-list cannot create collections (the new one could not be on its list).
 */
export function authorizeKeyRequest(
  principal: Principal,
  request: { method: string; route: string; params: unknown; body: unknown },
): void {
  const key = principal.key;
  if (key === undefined) return;
  const { method, route } = request;
  requireScope(principal, requiredScope(method, route), `${method} ${route.length > 1 ? route.replace(/\/$/, "") : route}`);
  const collectionId = stringField(request.params, "collection_id") ?? stringField(request.body, "collection_id");
  if (collectionId !== undefined) requireCollection(principal, collectionId);
  if (key.collections !== null && method === "POST" && /^\/v1\/collections\/?$/.test(route)) {
    throw forbidden(`this API key is limited to ${key.collections.length} collection${key.collections.length === 1 ? "" : "s"} and cannot create collections`);
  }
}

function stringField(value: unknown, name: string): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const field = (value as Record<string, unknown>)[name];
  return typeof field === "string" ? field : undefined;
}
