export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Unit-length embeddings, one per text, in order. Queries may get a model-specific prefix. */
  embed(texts: string[], kind: "query" | "document"): Promise<Float32Array[]>;
  close(): Promise<void>;
}
