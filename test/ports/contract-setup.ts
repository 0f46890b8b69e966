/**
 * What every port contract shares: how a test gets its fixture from the adapter's factory and
 * gives it back, and the store fixture the CollectionStore, MemoryStore and VectorIndex
 * contracts run against. Adapter-free on purpose: a contract names ports and domain types
 * only; the adapters' test files (test/stores/) bring the factories.
 */
import { afterEach, beforeEach } from "bun:test";
import type { MemoryWrite, Metadata } from "../../src/domain/memory.ts";
import type { CollectionStore } from "../../src/ports/collection-store.ts";
import type { MemoryStore } from "../../src/ports/memory-store.ts";
import type { VectorIndex } from "../../src/ports/vector-index.ts";

/** What a factory opens for a test: released after it, however the test ended. */
export interface Opened {
  cleanup(): Promise<void>;
}

/**
 * A fresh fixture for each test of the enclosing `describe`, cleaned up after it. The value
 * returned reads through to the running test's fixture, so tests use it like a variable.
 */
export function fixturePerTest<F extends Opened>(factory: () => Promise<F>): F {
  let current: F | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.cleanup();
  });
  return new Proxy({} as F, {
    get(_, property) {
      if (current === undefined) throw new Error("a contract fixture is only there while a test runs");
      return Reflect.get(current, property);
    },
  });
}

/**
 * For contracts whose tests open fixtures themselves (with options, or several): `open` calls
 * the factory, and every fixture opened during a test is cleaned up after it.
 */
export function openPerTest<A extends unknown[], F extends Opened>(factory: (...args: A) => Promise<F>): (...args: A) => Promise<F> {
  const opened: F[] = [];
  afterEach(async () => {
    for (const fixture of opened.splice(0)) await fixture.cleanup();
  });
  return async (...args) => {
    const fixture = await factory(...args);
    opened.push(fixture);
    return fixture;
  };
}

/**
 * What the store contracts run against: a fresh (or freshly namespaced) set of stores.
 * Embedded: one SQLite database. Production: Postgres collections + memories, Milvus vectors.
 */
export interface StoreFixture extends Opened {
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  /** Embedding dimensions the stores were built for (at least 128). */
  dimensions: number;
  /**
   * Resolves once every write made so far is visible to `vectors` and keyword search (an
   * adapter whose outbox delivers asynchronously waits for it to drain). Optional; the suites
   * await it after every write before they search. A no-op for the embedded stores.
   */
  settle?(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

export async function settle(fixture: StoreFixture): Promise<void> {
  if (fixture.settle !== undefined) await fixture.settle();
}

/** A fresh owner id, so suites can share one real database without colliding. */
export function newOwner(): string {
  return `owner-${crypto.randomUUID()}`;
}

/** A collection of a fresh owner; returns its id and owner. */
export async function newCollection(fixture: StoreFixture, name = "contract"): Promise<{ id: string; owner: string }> {
  const owner = newOwner();
  const collection = await fixture.collections.create(owner, { name, description: null });
  return { id: collection.id, owner };
}

export function write(id: string, content: string, embedding: Float32Array, metadata: Metadata = {}): MemoryWrite {
  return { id, content, metadata, embedding };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ids of a list of hits or memories. */
export function ids(items: { id: string }[]): string[] {
  return items.map((item) => item.id);
}
