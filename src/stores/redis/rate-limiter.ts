import type { RedisClient } from "./client";
import type { Logger } from "../../log";
import { InProcessRateLimiter } from "../in-process/rate-limiter";
import type { RateDecision, RateLimiter } from "../../ports/rate-limiter";

/**
 * GCRA in Redis, atomic in one Lua script, on Redis' clock, so every worker spends one budget.
 * KEYS[1] = the key; ARGV = limit, period ms, cost. Returns {allowed, remaining, reset ms, retry ms}.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * (tonumber(ARGV[3]) or 1)
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return {1, math.floor((period - (new_tat - now)) / interval), math.ceil(new_tat - now), 0}
`;

export interface RateLimiterStats {
  fallbacks: number;
}

/** The shared limiter; while Redis is unreachable each worker limits on its own, logged and counted. */
export class RedisRateLimiter implements RateLimiter {
  readonly stats: RateLimiterStats = { fallbacks: 0 };
  private readonly fallback = new InProcessRateLimiter();
  private lastWarning = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly log: Logger,
    private readonly prefix = "memory-api:rl:",
  ) {
    redis.defineCommand("memoryApiGcra", { numberOfKeys: 1, lua: SCRIPT });
  }

  async consume(key: string, limitPerMinute: number, cost = 1): Promise<RateDecision> {
    try {
      const run = (this.redis as unknown as { memoryApiGcra(k: string, l: number, p: number, c: number): Promise<number[]> })
        .memoryApiGcra;
      const [allowed, remaining, resetMs, retryMs] = await run.call(this.redis, this.prefix + key, limitPerMinute, 60_000, cost);
      return {
        allowed: allowed === 1,
        limit: limitPerMinute,
        remaining: remaining!,
        resetSeconds: Math.ceil(resetMs! / 1000),
        retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs! / 1000)),
      };
    } catch (error) {
      this.stats.fallbacks++;
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.log.warn("redis unavailable for rate limiting; limiting per worker meanwhile", {
          error: String(error),
          fallbacks: this.stats.fallbacks,
        });
      }
      return this.fallback.consume(key, limitPerMinute, cost);
    }
  }
}
