/** API keys: long-lived, revocable credentials a user makes for a program (a bot, an agent). */

/** read: GET routes and search; write: create/change/delete memories and collections; admin: everything, keys included. */
export const API_KEY_SCOPES = ["read", "write", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A key as its owner sees it: never the secret, never its hash. */
export interface ApiKey {
  /** Public, random; the key's `mapi_<id>` prefix and its URL. */
  id: string;
  owner: string;
  name: string;
  /** The owner's tier when the key was made (the key keeps it). */
  tier: string;
  scopes: ApiKeyScope[];
  /** Allow-list of collection ids; null = every collection of the owner. */
  collections: string[] | null;
  created_at: string; // ISO-8601
  last_used_at: string | null;
  expires_at: string | null;
}

/** A key with what verifies it: the SHA-256 (hex) of its secret. */
export interface StoredApiKey extends ApiKey {
  secret_hash: string;
}

export type NewApiKey = Omit<StoredApiKey, "created_at" | "last_used_at">;
