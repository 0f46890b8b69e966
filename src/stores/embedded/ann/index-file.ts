import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnnGraph, AnnLibrary, AnnParameters } from "./library.ts";

/** What a saved graph reflects. */
export interface IndexMeta {
  format: number;
  collectionId: string;
  parameters: AnnParameters;
  /** The collection's change-log head the graph reflects. */
  seq: number;
  /** The collection's `vectors_epoch` when it was built. */
  epoch: number;
  /** Size and Bun.hash of the graph file: USearch aborts the process on a corrupt file, so it never sees one. */
  bytes: number;
  hash: string;
}

export type SavedState = Pick<IndexMeta, "collectionId" | "parameters" | "seq" | "epoch">;

export type Loaded = { graph: AnnGraph; meta: IndexMeta } | { graph: null; why: string };

const FORMAT = 1;
/** A temporary file older than this was left by a crashed save (a save takes seconds). */
const STALE_TMP_MS = 3_600_000;
const SUFFIXES = [".usearch", ".json"];

const sameParameters = (a: AnnParameters, b: AnnParameters) =>
  a.dimensions === b.dimensions && a.connectivity === b.connectivity && a.expansionAdd === b.expansionAdd && a.expansionSearch === b.expansionSearch;

const hashOf = (path: string) => Bun.hash(readFileSync(path)).toString(16);

function readMeta(path: string): IndexMeta | string {
  let meta: Partial<IndexMeta>;
  try {
    meta = JSON.parse(readFileSync(path, "utf8")) as Partial<IndexMeta>;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "no saved index" : "unreadable index metadata";
  }
  const valid =
    meta.format === FORMAT &&
    typeof meta.collectionId === "string" &&
    typeof meta.seq === "number" &&
    typeof meta.epoch === "number" &&
    typeof meta.bytes === "number" &&
    typeof meta.hash === "string" &&
    typeof meta.parameters === "object" &&
    meta.parameters !== null;
  return valid ? (meta as IndexMeta) : "index metadata of another format";
}

function removeIfStale(path: string): void {
  try {
    if (Date.now() - statSync(path).mtimeMs > STALE_TMP_MS) rmSync(path, { force: true });
  } catch {
    // gone already
  }
}

/**
 * The ANN graphs of one database, in a folder next to it (`<collection>.usearch` + `.json`).
 * A file is a cache of SQLite: anything that does not check out (missing, torn, corrupt, other
 * parameters) loads as absent, and the caller rebuilds. Each file is written under a temporary
 * name and renamed, so a crash never leaves a half-written one under the real name; the meta's
 * hash pairs it with its graph (two processes saving at once at worst cost a rebuild).
 */
export class IndexFiles {
  constructor(readonly dir: string) {}

  private paths(collectionId: string) {
    return { graph: join(this.dir, `${collectionId}.usearch`), meta: join(this.dir, `${collectionId}.json`) };
  }

  save(graph: AnnGraph, state: SavedState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const paths = this.paths(state.collectionId);
    const tmp = `.${process.pid}-${crypto.randomUUID()}.tmp`;
    try {
      graph.save(paths.graph + tmp);
      const meta: IndexMeta = { format: FORMAT, ...state, bytes: statSync(paths.graph + tmp).size, hash: hashOf(paths.graph + tmp) };
      writeFileSync(paths.meta + tmp, JSON.stringify(meta), { mode: 0o600 });
      renameSync(paths.graph + tmp, paths.graph);
      renameSync(paths.meta + tmp, paths.meta);
    } finally {
      rmSync(paths.graph + tmp, { force: true });
      rmSync(paths.meta + tmp, { force: true });
    }
  }

  load(library: AnnLibrary, collectionId: string, parameters: AnnParameters): Loaded {
    const paths = this.paths(collectionId);
    const meta = readMeta(paths.meta);
    if (typeof meta === "string") return { graph: null, why: meta };
    if (meta.collectionId !== collectionId || !sameParameters(meta.parameters, parameters)) {
      return { graph: null, why: "index saved with other parameters" };
    }
    try {
      if (statSync(paths.graph).size !== meta.bytes || hashOf(paths.graph) !== meta.hash) {
        return { graph: null, why: "index file does not match its metadata (torn or corrupt)" };
      }
    } catch {
      return { graph: null, why: "index file missing" };
    }
    const graph = library.create(parameters);
    try {
      graph.load(paths.graph);
    } catch (error) {
      return { graph: null, why: `index file unreadable: ${(error as Error).message}` };
    }
    if (graph.dimensions() !== parameters.dimensions) return { graph: null, why: "index file of other dimensions" };
    return { graph, meta };
  }

  drop(collectionId: string): void {
    const paths = this.paths(collectionId);
    rmSync(paths.graph, { force: true });
    rmSync(paths.meta, { force: true });
  }

  /** The collections that have a file here (temporary files left by a crash are removed). */
  collections(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const ids = new Set<string>();
    for (const name of names) {
      if (name.endsWith(".tmp")) removeIfStale(join(this.dir, name));
      const suffix = SUFFIXES.find((s) => name.endsWith(s));
      if (suffix !== undefined) ids.add(name.slice(0, -suffix.length));
    }
    return [...ids];
  }
}
