import type Redis from "ioredis";
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
 * KEYS: searches zset, its epoch, collections zset, its epoch.
 * ARGV: half-life ms, max searches kept, max collections kept, collection id, ttl s, then descriptor/count pairs.
 */
const RECORD = `${WEIGHT}
local now = now_ms()
local half = tonumber(ARGV[1])
local w = weight(KEYS[1], KEYS[2], now, half, true)
local out = {}
local total = 0
for i = 6, #ARGV, 2 do
  local c = tonumber(ARGV[i + 1])
  total = total + c
  local s = redis.call('ZINCRBY', KEYS[1], c * w, ARGV[i])
  out[#out + 1] = tostring(tonumber(s) / w)
end
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[2])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
local cw = weight(KEYS[3], KEYS[4], now, half, true)
redis.call('ZINCRBY', KEYS[3], total * cw, ARGV[4])
local cn = redis.call('ZCARD', KEYS[3])
local ckeep = tonumber(ARGV[3])
if cn > ckeep then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, cn - ckeep - 1) end
local ttl = tonumber(ARGV[5])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('EXPIRE', KEYS[4], ttl)
return out
`;

/** KEYS: a zset and its epoch. ARGV: half-life ms, n. Returns member, score pairs (scores as of now). */
const TOP = `${WEIGHT}
local w = weight(KEYS[1], KEYS[2], now_ms(), tonumber(ARGV[1]), false)
local raw = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 2, #raw, 2 do raw[i] = tostring(tonumber(raw[i]) / w) end
return raw
`;

interface PopularityCommands {
  memoryApiPopularityRecord(...args: (string | number)[]): Promise<string[]>;
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
    redis: Redis,
    private readonly options: RedisPopularityOptions,
  ) {
    redis.defineCommand("memoryApiPopularityRecord", { numberOfKeys: 4, lua: RECORD });
    redis.defineCommand("memoryApiPopularityTop", { numberOfKeys: 2, lua: TOP });
    this.commands = redis as unknown as PopularityCommands;
    this.prefix = options.prefix ?? "memory-api:pop:";
  }

  private keys(collectionId: string): [string, string] {
    return [`${this.prefix}c:${collectionId}`, `${this.prefix}c-epoch:${collectionId}`];
  }

  private get collectionKeys(): [string, string] {
    return [`${this.prefix}collections`, `${this.prefix}collections-epoch`];
  }

  async record(collectionId: string, counts: Map<string, number>): Promise<Map<string, number>> {
    const args: (string | number)[] = [
      ...this.keys(collectionId),
      ...this.collectionKeys,
      this.options.halfLifeMs,
      this.options.maxPerCollection ?? 1000,
      this.options.maxCollections ?? 10_000,
      collectionId,
      this.options.idleTtlSeconds ?? 7 * 86_400,
    ];
    const order: string[] = [];
    for (const [descriptor, count] of counts) {
      args.push(descriptor, count);
      order.push(descriptor);
    }
    const scores = await this.commands.memoryApiPopularityRecord(...args);
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
    const redis = this.commands as unknown as Redis;
    await redis.del(...this.keys(collectionId));
    await redis.zrem(this.collectionKeys[0], collectionId);
  }
}
