import type { RedisClient } from "./client";
import type { PopularSearch, SearchPopularity } from "../../ports/search-popularity";

/**
 * Decaying counters in sorted sets, on Redis' clock. Instead of decaying every member, each
 * addition is weighted by 2^((now - epoch) / halfLife), so stored scores stay comparable and a
 * score read at `now` is the stored one divided by that weight; when the weight grows past
 * 2^30 the set is rescaled once (ZUNIONSTORE ... WEIGHTS) and the epoch moves to now.
 */
const WEIGHT = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function weight(zkey, ekey, now, half, rescale)
  local epoch = tonumber(redis.call('GET', ekey))
  if not epoch then
    if not rescale then return 1 end
    epoch = now
    redis.call('SET', ekey, tostring(epoch))
  end
  local e = (now - epoch) / half
  if e < 0 then e = 0 end
  if rescale and e > 30 then
    redis.call('ZUNIONSTORE', zkey, 1, zkey, 'WEIGHTS', tostring(2 ^ (-e)))
    redis.call('SET', ekey, tostring(now))
    e = 0
  end
  return 2 ^ e
end
`;

/**
 * KEYS: a collection's searches zset, its epoch (one hash tag: one slot in a Redis Cluster).
 * ARGV: half-life ms, max searches kept, ttl s, then descriptor/count pairs. Returns the scores.
 */
const RECORD_SEARCHES = `${WEIGHT}
local now = now_ms()
local w = weight(KEYS[1], KEYS[2], now, tonumber(ARGV[1]), true)
local out = {}
for i = 4, #ARGV, 2 do
  local s = redis.call('ZINCRBY', KEYS[1], tonumber(ARGV[i + 1]) * w, ARGV[i])
  out[#out + 1] = tostring(tonumber(s) / w)
end
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[2])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return out
`;

/** KEYS: the collections zset, its epoch (their own slot). ARGV: half-life ms, max kept, ttl s, collection id, count. */
const RECORD_COLLECTION = `${WEIGHT}
local now = now_ms()
local w = weight(KEYS[1], KEYS[2], now, tonumber(ARGV[1]), true)
redis.call('ZINCRBY', KEYS[1], tonumber(ARGV[5]) * w, ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[2])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
`;

/** KEYS: a zset and its epoch. ARGV: half-life ms, n. Returns member, score pairs (scores as of now). */
const TOP = `${WEIGHT}
local w = weight(KEYS[1], KEYS[2], now_ms(), tonumber(ARGV[1]), false)
local raw = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 2, #raw, 2 do raw[i] = tostring(tonumber(raw[i]) / w) end
return raw
`;

interface PopularityCommands {
  memoryApiPopularityRecordSearches(...args: (string | number)[]): Promise<string[]>;
  memoryApiPopularityRecordCollection(...args: (string | number)[]): Promise<number>;
  memoryApiPopularityTop(...args: (string | number)[]): Promise<string[]>;
}

export interface RedisPopularityOptions {
  halfLifeMs: number;
  maxPerCollection?: number;
  maxCollections?: number;
  /** Counters of a collection nobody searches vanish after this long. */
  idleTtlSeconds?: number;
  prefix?: string;
}

export class RedisPopularity implements SearchPopularity {
  private readonly commands: PopularityCommands;
  private readonly prefix: string;

  constructor(
    redis: RedisClient,
    private readonly options: RedisPopularityOptions,
  ) {
    redis.defineCommand("memoryApiPopularityRecordSearches", { numberOfKeys: 2, lua: RECORD_SEARCHES });
    redis.defineCommand("memoryApiPopularityRecordCollection", { numberOfKeys: 2, lua: RECORD_COLLECTION });
    redis.defineCommand("memoryApiPopularityTop", { numberOfKeys: 2, lua: TOP });
    this.commands = redis as unknown as PopularityCommands;
    this.prefix = options.prefix ?? "memory-api:pop:";
  }

  // A script's keys share a hash tag ({...}), so each script runs on one Redis Cluster slot.
  private keys(collectionId: string): [string, string] {
    return [`${this.prefix}{c:${collectionId}}`, `${this.prefix}{c:${collectionId}}:epoch`];
  }

  private get collectionKeys(): [string, string] {
    return [`${this.prefix}{collections}`, `${this.prefix}{collections}:epoch`];
  }

  async record(collectionId: string, counts: Map<string, number>): Promise<Map<string, number>> {
    const ttl = this.options.idleTtlSeconds ?? 7 * 86_400;
    const args: (string | number)[] = [...this.keys(collectionId), this.options.halfLifeMs, this.options.maxPerCollection ?? 1000, ttl];
    const order: string[] = [];
    let total = 0;
    for (const [descriptor, count] of counts) {
      args.push(descriptor, count);
      order.push(descriptor);
      total += count;
    }
    const [scores] = await Promise.all([
      this.commands.memoryApiPopularityRecordSearches(...args),
      this.commands.memoryApiPopularityRecordCollection(
        ...this.collectionKeys,
        this.options.halfLifeMs,
        this.options.maxCollections ?? 10_000,
        ttl,
        collectionId,
        total,
      ),
    ]);
    return new Map(order.map((descriptor, i) => [descriptor, Number(scores[i])]));
  }

  private async topOf(keys: [string, string], n: number): Promise<PopularSearch[]> {
    if (n <= 0) return [];
    const raw = await this.commands.memoryApiPopularityTop(...keys, this.options.halfLifeMs, n);
    const out: PopularSearch[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push({ descriptor: raw[i]!, score: Number(raw[i + 1]) });
    return out;
  }

  top(collectionId: string, n: number): Promise<PopularSearch[]> {
    return this.topOf(this.keys(collectionId), n);
  }

  async topCollections(n: number): Promise<string[]> {
    return (await this.topOf(this.collectionKeys, n)).map((c) => c.descriptor);
  }

  async forget(collectionId: string): Promise<void> {
    const redis = this.commands as unknown as RedisClient;
    await redis.del(...this.keys(collectionId));
    await redis.zrem(this.collectionKeys[0], collectionId);
  }
}
