import { openEmbeddedStores } from "../../src/stores/embedded/index.ts";
import { type GraphFactory, runGraphStoreContract } from "./graph-store.contract.ts";

const DIMENSIONS = 384;

/** A fresh in-memory database per test: the graph tables are written in the memories' transactions. */
const embedded: GraphFactory = async () => {
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: DIMENSIONS });
  return { ...stores, dimensions: DIMENSIONS, settle: async () => {}, cleanup: async () => stores.close() };
};

runGraphStoreContract("embedded GraphStore (SQLite)", embedded);
