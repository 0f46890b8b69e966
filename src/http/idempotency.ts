/**
 * `Idempotency-Key` on the create routes: a retried write (same key, same user, same request)
 * gets the first answer, status and body, instead of writing again; the same key with another
 * request is a 422; a duplicate arriving while the first is still running is a 409 with
 * Retry-After. Keys are claimed atomically in the store (ports/idempotency-store.ts).
 */
import { t } from "elysia";
import type { IdempotencyStore } from "../ports/idempotency-store";
import { canonicalJson } from "../search/cache-key";
import { ProblemError } from "./problem";

export const IDEMPOTENCY_KEY = "idempotency-key";

/** The header as the create routes declare it (every other header is allowed through). */
export const IdempotencyHeaders = t.Object(
  {
    [IDEMPOTENCY_KEY]: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 255,
        pattern: "^[\\x21-\\x7E]+$",
        description:
          "a key of the client's choosing (e.g. a UUID), at most 255 visible ASCII characters: a retry with the same key and body within the retention window (24 h by default) gets the first answer instead of writing again",
      }),
    ),
  },
  { additionalProperties: true },
);

export interface IdempotencyPolicy {
  store: IdempotencyStore;
  /** How long a completed request's answer is kept for its retries. */
  retentionSeconds: number;
  /** How long a claim whose request never finished (its worker died) blocks its key. */
  lockSeconds: number;
}

interface ResponseState {
  status?: number | string;
  headers: Record<string, string | number>;
}

/**
 * Runs `write` once per (user, key): the first request with a key runs it and its answer is
 * kept; a retry with the same request gets that answer back (`Idempotent-Replayed: true`).
 * A request that fails releases its key, so its retry runs again. Without a key, or without a
 * store, `write` simply runs.
 */
export async function idempotent<T>(
  policy: IdempotencyPolicy | undefined,
  request: {
    userId: string;
    key: string | undefined;
    fingerprint: unknown;
    set: ResponseState;
    /** Whether a kept answer still holds (what it created still exists); default yes. */
    stillHolds?: (answer: T) => Promise<boolean>;
  },
  write: () => Promise<T>,
): Promise<T> {
  const { userId, key, set } = request;
  if (policy === undefined || key === undefined) return write();
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(canonicalJson(request.fingerprint));
  const fingerprint = hasher.digest("hex");
  const claimKey = () =>
    policy.store.claim(userId, key, fingerprint, { retentionSeconds: policy.retentionSeconds, lockSeconds: policy.lockSeconds });
  let claim = await claimKey();
  if (claim.state === "completed" && request.stillHolds !== undefined && !(await request.stillHolds(JSON.parse(claim.body) as T))) {
    // What the first request created was deleted since: nothing to duplicate, so the retry runs
    // as a new request rather than answering with something that no longer exists.
    await policy.store.forget(userId, key);
    claim = await claimKey();
  }
  switch (claim.state) {
    case "mismatch":
      throw new ProblemError(
        409,
        "conflict",
        `headers.${IDEMPOTENCY_KEY}: this key was already used for a different request (another body, route or collection); a new request needs a new key`,
        { field: `headers.${IDEMPOTENCY_KEY}` },
      );
    case "in_progress":
      throw new ProblemError(409, "conflict", "a request with this Idempotency-Key is still being processed; retry it shortly to get its answer", {
        headers: { "retry-after": "1" },
      });
    case "completed":
      set.status = claim.status;
      set.headers["idempotent-replayed"] = "true";
      return JSON.parse(claim.body) as T;
  }
  let answer: T;
  try {
    answer = await write();
  } catch (error) {
    await policy.store.release(userId, key, claim.token).catch(() => {});
    throw error;
  }
  const status = typeof set.status === "number" ? set.status : 200;
  // The write is done whatever happens here: if its answer cannot be kept, this request still
  // gets it, and a retry waits out the claim (lockSeconds) before it may run again.
  await policy.store.complete(userId, key, claim.token, { status, body: JSON.stringify(answer) }).catch(() => {});
  return answer;
}
