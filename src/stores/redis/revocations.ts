import type { RedisClient } from "./client";
import type { RevocationSnapshot, RevocationStore } from "../../ports/revocation-store";

/** ZRANGE … WITHSCORES answers member, score pairs; ZADD takes score, member. */
function scoreFirst(rows: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rows.length; i += 2) out.push(rows[i + 1]!, rows[i]!);
  return out;
}

/**
 * The production revocation list, shared by every worker: sorted sets scored by when an entry
 * may be forgotten, plus a version counter the workers poll. The keys carry no TTL, so Redis'
 * `volatile-lru` eviction never drops a revocation under memory pressure. They share one hash
 * tag, so a transaction over them runs on one Redis Cluster slot.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly keys;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "memory-api:",
  ) {
    const at = (name: string) => `${prefix}{revoked}:${name}`;
    this.keys = { jti: at("jti"), sub: at("sub"), subForget: at("sub-forget"), version: at("version") };
  }

  /**
   * Moves the revocations kept under the names used before the hash tag (`memory-api:revoked:*`)
   * into the tagged keys, merged with whatever is there already, so an upgrade forgets none.
   * Idempotent; each worker runs it before its first read (retried with the next refresh when
   * Redis is down), so no worker reads the list before what it holds was adopted.
   */
  async adoptLegacyKeys(): Promise<number> {
    const legacy = { jti: `${this.prefix}revoked:jti`, sub: `${this.prefix}revoked:sub`, subForget: `${this.prefix}revoked:sub-forget` };
    const [jtiRows, subs, forgetRows] = await Promise.all([
      this.redis.zrange(legacy.jti, 0, -1, "WITHSCORES"),
      this.redis.hgetall(legacy.sub),
      this.redis.zrange(legacy.subForget, 0, -1, "WITHSCORES"),
    ]);
    const adopted = jtiRows.length / 2 + Object.keys(subs).length;
    if (adopted === 0 && forgetRows.length === 0) return 0;
    const current = await this.redis.hgetall(this.keys.sub);
    const tx = this.redis.multi();
    if (jtiRows.length > 0) tx.zadd(this.keys.jti, "GT", ...scoreFirst(jtiRows));
    if (forgetRows.length > 0) tx.zadd(this.keys.subForget, "GT", ...scoreFirst(forgetRows));
    for (const [sub, upTo] of Object.entries(subs)) tx.hset(this.keys.sub, sub, String(Math.max(Number(upTo), Number(current[sub] ?? 0))));
    await tx.incr(this.keys.version).exec();
    // one key per DEL: the legacy names hash to different cluster slots
    await Promise.all(Object.values(legacy).map((key) => this.redis.del(key)));
    return adopted;
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

  private adopted = false;

  private async adoptOnce(): Promise<void> {
    if (this.adopted) return;
    await this.adoptLegacyKeys();
    this.adopted = true;
  }

  async version(): Promise<string> {
    await this.adoptOnce();
    return (await this.redis.get(this.keys.version)) ?? "0";
  }

  async load(nowMs: number): Promise<RevocationSnapshot> {
    await this.adoptOnce();
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
