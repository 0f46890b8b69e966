import type { RedisClient } from "./client";
import type { SearchCache } from "../../ports/search-cache";

/** The search cache and collection generations in Redis, shared by every worker. */
export class RedisSearchCache implements SearchCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "memory-api:",
  ) {}

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    await this.redis.set(this.prefix + key, value, "EX", ttlSeconds);
  }

  async generation(collectionId: string): Promise<number> {
    const raw = await this.redis.get(`${this.prefix}gen:${collectionId}`);
    return raw === null ? 0 : Number(raw);
  }

  async bumpGeneration(collectionId: string): Promise<number> {
    return this.redis.incr(`${this.prefix}gen:${collectionId}`);
  }
}
