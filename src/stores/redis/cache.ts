import type { RedisClient } from "./client";
import type { SearchCache } from "../../ports/search-cache";
import type { GenerationLedger } from "../../ports/generation-ledger";

/** Sets a generation to ARGV[1] unless the key already holds at least that; returns what it holds. */
const RAISE_GENERATION = `
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) >= tonumber(ARGV[1]) then return held end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

/** Past this many checked collections the set starts over (each is checked again once). */
const MAX_CHECKED = 100_000;

type RaisingClient = RedisClient & { memoryApiRaiseGeneration(key: string, generation: string): Promise<string> };

/**
 * The search cache and collection generations in Redis, shared by every worker. Generations are
 * checked against a durable ledger (PostgreSQL in production): a bump advances the ledger first
 * and raises Redis's copy to it; a generation missing from Redis, or read for the first time
 * since the connection (re)opened, is raised to the ledger's before it is used. Counted in Redis
 * alone, a generation would go back when Redis loses its data or is restored from an older
 * snapshot, and workers' first-level caches would serve answers cached under the old numbers.
 */
export class RedisSearchCache implements SearchCache {
  readonly stats = { ledgerChecks: 0 };
  /** Collections whose generation in Redis was checked against the ledger on this connection. */
  private readonly checked = new Set<string>();
  /** Changes when the connection closes or reopens (or a cluster node comes or goes). */
  private connectionEpoch = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly ledger: GenerationLedger,
    private readonly prefix = "memory-api:",
  ) {
    redis.defineCommand("memoryApiRaiseGeneration", { numberOfKeys: 1, lua: RAISE_GENERATION });
    // A Redis that restarted (or a new master after a failover) may hold older generations:
    // every collection is checked against the ledger again before its generation is trusted.
    const forget = () => {
      this.connectionEpoch++;
      this.checked.clear();
    };
    for (const event of ["close", "ready", "+node", "-node"]) redis.on(event, forget);
  }

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    await this.redis.set(this.prefix + key, value, "EX", ttlSeconds);
  }

  async generation(collectionId: string): Promise<number> {
    const raw = await this.redis.get(this.generationKey(collectionId));
    if (raw !== null && this.checked.has(collectionId)) return Number(raw);
    return this.seed(collectionId);
  }

  async bumpGeneration(collectionId: string): Promise<number> {
    const advanced = await this.ledger.advance(collectionId);
    await this.raise(collectionId, advanced);
    return advanced;
  }

  /** Raises Redis's copy to the ledger's; -1 (no caching) for a collection the ledger does not know. */
  private async seed(collectionId: string): Promise<number> {
    this.stats.ledgerChecks++;
    const epoch = this.connectionEpoch;
    const durable = await this.ledger.current(collectionId);
    if (durable === null) return -1;
    const held = await this.raise(collectionId, durable);
    // checked on a connection that has since closed: that Redis may not be the one now answering
    if (epoch === this.connectionEpoch) {
      if (this.checked.size >= MAX_CHECKED) this.checked.clear();
      this.checked.add(collectionId);
    }
    return held;
  }

  private async raise(collectionId: string, generation: number): Promise<number> {
    const client = this.redis as RaisingClient;
    return Number(await client.memoryApiRaiseGeneration(this.generationKey(collectionId), String(generation)));
  }

  private generationKey(collectionId: string): string {
    return `${this.prefix}gen:${collectionId}`;
  }
}
