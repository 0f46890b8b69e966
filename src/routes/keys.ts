import { Elysia, t } from "elysia";
import type { ApiKey } from "../domain/api-key";
import type { ApiKeyStore } from "../ports/api-key-store";
import type { CollectionStore } from "../ports/collection-store";
import type { AuthPlugin } from "../auth/plugin";
import { mintApiKey, prefixOf } from "../auth/api-key-format";
import { invalidField, notFound, ProblemError } from "../http/problem";
import { AUTHENTICATED, WITH_BODY, describeRoute, problems } from "../http/openapi";
import { CreatedKeySchema, CreateKeyBody, KEY_LIMITS, KeyIdParams, KeyListSchema, KeySchema } from "./key-schemas";

export interface KeyRoutesDeps {
  /** Resolves `principal` (401 otherwise), spends the budget; an API key needs the admin scope here. */
  auth: AuthPlugin;
  /** Absent: the routes answer 404 (this server keeps no API keys). */
  keys?: ApiKeyStore;
  collections: CollectionStore;
  /** Called after a revocation: this worker refuses the key at once (the others within the bound). */
  onRevoked: (keyId: string) => void;
}

export const presentKey = (key: ApiKey) => ({
  id: key.id,
  name: key.name,
  prefix: prefixOf(key.id),
  scopes: key.scopes,
  collections: key.collections,
  created_at: key.created_at,
  last_used_at: key.last_used_at,
  expires_at: key.expires_at,
});

/** The caller's API keys: make one (its secret shown once), list them, revoke one. */
export function keyRoutes(deps: KeyRoutesDeps) {
  const store = (): ApiKeyStore => {
    if (!deps.keys) throw new ProblemError(404, "not_found", "this server keeps no API keys");
    return deps.keys;
  };

  return new Elysia({ prefix: "/v1/keys", normalize: false })
    .use(deps.auth)
    .post(
      "/",
      async ({ principal, body, set }) => {
        const keys = store();
        const expiresAt = body.expires_at === undefined ? null : Date.parse(body.expires_at);
        if (expiresAt !== null && !(expiresAt > Date.now())) throw invalidField("expires_at", "must be a date-time in the future");
        const collections = body.collections ?? null;
        const callerList = principal.key?.collections ?? null;
        if (callerList !== null && (collections === null || collections.some((id) => !callerList.includes(id)))) {
          throw new ProblemError(
            403,
            "forbidden",
            "this API key is limited to some collections; a key it makes must list collections among them",
          );
        }
        for (const [i, id] of (collections ?? []).entries()) {
          // as everywhere: another user's collection is the same as none (never reveal that it exists)
          if (!(await deps.collections.get(principal.userId, id))) {
            throw new ProblemError(404, "not_found", `collections[${i}]: collection ${id} not found`, { field: `collections[${i}]` });
          }
        }
        if ((await keys.count(principal.userId)) >= KEY_LIMITS.keysPerUser) {
          throw new ProblemError(409, "conflict", `you hold ${KEY_LIMITS.keysPerUser} API keys, the most allowed; revoke one first`);
        }
        const minted = mintApiKey();
        const created = await keys.create({
          id: minted.id,
          owner: principal.userId,
          name: body.name.trim(),
          tier: principal.tier,
          scopes: [...body.scopes],
          collections,
          expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
          secret_hash: minted.secretHash,
        });
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return { ...presentKey(created), key: minted.key };
      },
      {
        body: CreateKeyBody,
        response: { 201: CreatedKeySchema, ...problems(...AUTHENTICATED, ...WITH_BODY, 404, 409) },
        detail: describeRoute(
          "keys",
          "Make an API key (its secret is in this answer only)",
          "The key acts as you, with your tier of now, limited to its scopes and, if given, its collections. Keys need the admin scope to manage keys, and a key limited to collections makes only keys limited to some of them.",
        ),
      },
    )
    .get(
      "/",
      async ({ principal }) => ({ keys: (await store().list(principal.userId)).map(presentKey) }),
      {
        response: { 200: KeyListSchema, ...problems(...AUTHENTICATED, 404) },
        detail: describeRoute("keys", "List your API keys (never their secrets)"),
      },
    )
    .get(
      "/:key_id",
      async ({ principal, params }) => {
        const key = await store().get(principal.userId, params.key_id);
        if (!key) throw notFound("API key");
        return presentKey(key);
      },
      {
        params: KeyIdParams,
        response: { 200: KeySchema, ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute("keys", "Get one of your API keys (never its secret)"),
      },
    )
    .delete(
      "/:key_id",
      async ({ principal, params, set }) => {
        if (!(await store().delete(principal.userId, params.key_id))) throw notFound("API key");
        deps.onRevoked(params.key_id);
        set.status = 204;
      },
      {
        params: KeyIdParams,
        response: { 204: t.Void(), ...problems(...AUTHENTICATED, 404, 422) },
        detail: describeRoute("keys", "Revoke an API key", "Every worker refuses it within a second."),
      },
    );
}
