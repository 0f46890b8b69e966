import type Redis from "ioredis";
import type { RevocationSnapshot, RevocationStore } from "../../ports/revocation-store";

/**
 * The production revocation list, shared by every worker: sorted sets scored by when an entry
 * may be forgotten, plus a version counter the workers poll. The keys carry no TTL, so Redis'
 * `volatile-lru` eviction never drops a revocation under memory pressure.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly keys;

  constructor(
    private readonly redis: Redis,
    prefix = "memory-api:revoked:",
  ) {
    this.keys = { jti: `${prefix}jti`, sub: `${prefix}sub`, subForget: `${prefix}sub-forget`, version: `${prefix}version` };
  }

  async revokeJti(jti: string, forgetAtMs: number): Promise<void> {
    await this.prune();
    await this.redis.multi().zadd(this.keys.jti, "GT", forgetAtMs, jti).incr(this.keys.version).exec();
  }

  async revokeSub(sub: string, issuedUpToSeconds: number, forgetAtMs: number): Promise<void> {
    await this.prune();
    const previous = Number((await this.redis.hget(this.keys.sub, sub)) ?? 0);
    await this.redis
      .multi()
      .hset(this.keys.sub, sub, String(Math.max(previous, issuedUpToSeconds)))
      .zadd(this.keys.subForget, "GT", forgetAtMs, sub) // GT: adds new members, only raises existing ones
      .incr(this.keys.version)
      .exec();
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    const forgotten = await this.redis.zrangebyscore(this.keys.subForget, "-inf", `(${now}`);
    const tx = this.redis.multi().zremrangebyscore(this.keys.jti, "-inf", `(${now}`).zremrangebyscore(this.keys.subForget, "-inf", `(${now}`);
    if (forgotten.length > 0) tx.hdel(this.keys.sub, ...forgotten);
    await tx.exec();
  }

  async version(): Promise<string> {
    return (await this.redis.get(this.keys.version)) ?? "0";
  }

  async load(nowMs: number): Promise<RevocationSnapshot> {
    const [jtiRows, subRows, liveSubs] = await Promise.all([
      this.redis.zrangebyscore(this.keys.jti, nowMs, "+inf", "WITHSCORES"),
      this.redis.hgetall(this.keys.sub),
      this.redis.zrangebyscore(this.keys.subForget, nowMs, "+inf"),
    ]);
    const jtis = new Map<string, number>();
    for (let i = 0; i + 1 < jtiRows.length; i += 2) jtis.set(jtiRows[i]!, Number(jtiRows[i + 1]));
    const subs = new Map<string, number>();
    for (const sub of liveSubs) if (subRows[sub] !== undefined) subs.set(sub, Number(subRows[sub]));
    return { jtis, subs };
  }

  /** The client belongs to the caller. */
  async close(): Promise<void> {}
}
