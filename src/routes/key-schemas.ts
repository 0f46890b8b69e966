import { t } from "elysia";
import { API_KEY_ID_PATTERN } from "../auth/api-key-format";
import { LIMITS } from "../domain/limits";

/** Request and response schemas of /v1/keys. */

export const KEY_LIMITS = { name: 128, collections: 100, keysPerUser: 100 } as const;

const Scope = t.Union([t.Literal("read"), t.Literal("write"), t.Literal("admin")], {
  description: "read: GET routes and POST /v1/search; write: create, change and delete collections and memories; admin: everything, /v1/keys included",
});

export const CreateKeyBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: KEY_LIMITS.name, pattern: "\\S", description: "what the key is for" }),
    scopes: t.Array(Scope, { minItems: 1, maxItems: 3, uniqueItems: true }),
    collections: t.Optional(
      t.Array(t.String({ minLength: 1, maxLength: LIMITS.idChars }), {
        minItems: 1,
        maxItems: KEY_LIMITS.collections,
        uniqueItems: true,
        description: "allow-list of your collection ids; absent: every collection of yours",
      }),
    ),
    expires_at: t.Optional(t.String({ format: "date-time", description: "RFC 3339 date-time with an offset, in the future; absent: never" })),
  },
  { additionalProperties: false },
);

export const KeyIdParams = t.Object({ key_id: t.String({ pattern: API_KEY_ID_PATTERN }) });

const keyFields = {
  id: t.String(),
  name: t.String(),
  prefix: t.String({ description: "the key's first characters (mapi_<id>), to recognise it" }),
  scopes: t.Array(Scope),
  collections: t.Union([t.Array(t.String()), t.Null()]),
  created_at: t.String(),
  last_used_at: t.Union([t.String(), t.Null()], { description: "updated at most once a minute" }),
  expires_at: t.Union([t.String(), t.Null()]),
};

export const KeySchema = t.Object(keyFields);

export const CreatedKeySchema = t.Object({
  ...keyFields,
  key: t.String({ description: "the API key itself: shown in this answer only, never again" }),
});

export const KeyListSchema = t.Object({ keys: t.Array(KeySchema) });
