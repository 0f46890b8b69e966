import neo4j, { type Driver } from "neo4j-driver";
import { type GraphFacts, MAX_CO_OCCURRING_ENTITIES } from "../../domain/graph.ts";
import type { IndexedMemory, IndexWriter } from "../../ports/index-writer.ts";
import { contentHash } from "./content-hash.ts";
import { DELETE, DELETE_COLLECTION_BATCHES, DELETE_COLLECTION_NODE, UPSERT } from "./cypher.ts";
import { translated } from "./errors.ts";

/** Rows per UNWIND transaction (each may carry up to 64 entities and their pairs). */
const BATCH = 200;

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * A memory's graph facts as the Cypher rows carry them; co-occurring pairs (among its first
 * MAX_CO_OCCURRING_ENTITIES entities) in name order.
 */
function graphRow(facts: GraphFacts | null | undefined) {
  const distinct = [...new Map((facts?.entities ?? []).map((e) => [e.name, e])).values()];
  const entities = [...distinct].sort(byName);
  const coOccurring = distinct.slice(0, MAX_CO_OCCURRING_ENTITIES).sort(byName);
  const pairs: [string, string][] = [];
  for (let i = 0; i < coOccurring.length; i++) {
    for (let j = i + 1; j < coOccurring.length; j++) pairs.push([coOccurring[i]!.name, coOccurring[j]!.name]);
  }
  const names = new Set(entities.map((e) => e.name));
  // each (source, relation, target) once: a memory counts once toward an edge's weight
  const relations = [
    ...new Map(
      (facts?.relations ?? [])
        .filter((r) => r.source !== r.target && names.has(r.source) && names.has(r.target))
        .map((r) => [JSON.stringify([r.source, r.relation, r.target]), r] as const),
    ).values(),
  ];
  return { entities: entities.map(({ name, display, type }) => ({ name, display, type })), relations, pairs };
}
/** Nodes deleted per transaction when a collection goes. */
const DELETE_BATCH = 5000;

export interface WriterOptions {
  /** Server-side bound on each transaction (ms). */
  transactionTimeoutMs: number;
  /** Client-side bound on one call, retries of transient errors included (ms). */
  callTimeoutMs: number;
}

/**
 * The outbox's "neo4j" target: MERGE-based, so every call is idempotent. Each batch is one
 * managed write transaction (the driver retries transient failures such as deadlocks within
 * its retry time); failures that mean Neo4j is unreachable are DependencyUnavailableError.
 */
export class Neo4jIndexWriter implements IndexWriter {
  readonly name = "neo4j";

  constructor(
    private readonly driver: Driver,
    private readonly options: WriterOptions,
  ) {}

  async upsert(items: IndexedMemory[]): Promise<void> {
    if (items.length === 0) return;
    // At-least-once delivery may repeat a memory; its last state wins.
    const latest = new Map<string, IndexedMemory>();
    for (const item of items) latest.set(JSON.stringify([item.collection_id, item.id]), item);
    const rows = [...latest.values()]
      .map((m) => ({
        collection_id: m.collection_id,
        id: m.id,
        created_at: m.created_at,
        content_hash: contentHash(m.content),
        ...graphRow(m.graph),
      }))
      .sort((a, b) => (a.collection_id < b.collection_id ? -1 : a.collection_id > b.collection_id ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let i = 0; i < rows.length; i += BATCH) {
      await this.write(UPSERT, { rows: rows.slice(i, i + BATCH) });
    }
  }

  async delete(collectionId: string, ids: string[]): Promise<void> {
    const rows = [...new Set(ids)].sort().map((id) => ({ collection_id: collectionId, id, entities: [] }));
    for (let i = 0; i < rows.length; i += BATCH) {
      await this.write(DELETE, { rows: rows.slice(i, i + BATCH) });
    }
  }

  async deleteCollection(collectionId: string): Promise<void> {
    for (const statement of DELETE_COLLECTION_BATCHES) {
      for (;;) {
        const deleted = await this.writeCount(statement, { collection_id: collectionId, batch: neo4j.int(DELETE_BATCH) });
        if (deleted < DELETE_BATCH) break;
      }
    }
    await this.write([DELETE_COLLECTION_NODE], { collection_id: collectionId });
  }

  /** Runs the statements, in order, in one write transaction. */
  private write(statements: readonly string[], parameters: Record<string, unknown>): Promise<void> {
    return translated(async () => {
      const session = this.driver.session({ defaultAccessMode: "WRITE" });
      try {
        await session.executeWrite(
          async (tx) => {
            for (const statement of statements) await tx.run(statement, parameters);
          },
          { timeout: this.options.transactionTimeoutMs },
        );
      } finally {
        await session.close();
      }
    }, this.options.callTimeoutMs);
  }

  /** Runs one statement returning `deleted` in its own write transaction. */
  private writeCount(statement: string, parameters: Record<string, unknown>): Promise<number> {
    return translated(async () => {
      const session = this.driver.session({ defaultAccessMode: "WRITE" });
      try {
        return await session.executeWrite(
          async (tx) => {
            const result = await tx.run(statement, parameters);
            return Number(result.records[0]?.get("deleted") ?? 0);
          },
          { timeout: this.options.transactionTimeoutMs },
        );
      } finally {
        await session.close();
      }
    }, this.options.callTimeoutMs);
  }
}
