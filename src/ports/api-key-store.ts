import type { ApiKey, NewApiKey, StoredApiKey } from "../domain/api-key.ts";

/** Where API keys live: only hashes of their secrets, never the secrets. Shared by every worker. */
export interface ApiKeyStore {
  create(key: NewApiKey): Promise<ApiKey>;
  /** The owner's keys in creation order, without their hashes. */
  list(owner: string): Promise<ApiKey[]>;
  /** The owner's key, or null when it is absent or another owner's. */
  get(owner: string, id: string): Promise<ApiKey | null>;
  /** Any owner's key with its hash, for verifying a presented key; null when absent. */
  find(id: string): Promise<StoredApiKey | null>;
  /** How many keys the owner holds. */
  count(owner: string): Promise<number>;
  /** Revokes (deletes) the owner's key; false when it is absent or another owner's. */
  delete(owner: string, id: string): Promise<boolean>;
  /** Records a use at `at` (ISO-8601); never moves last_used_at backwards; unknown ids are ignored. */
  touch(id: string, at: string): Promise<void>;
}
