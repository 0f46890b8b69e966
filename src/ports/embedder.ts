export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /**
   * Digest of what decides the vectors (weights, tokenizer, pooling, prefixes): two embedders
   * with the same `model` name but other fingerprints make incomparable vectors. Absent: unknown.
   */
  readonly fingerprint?: string;
  /** Unit-length embeddings, one per text, in order. Queries may get a model-specific prefix. */
  embed(texts: string[], kind: "query" | "document"): Promise<Float32Array[]>;
  close(): Promise<void>;
}
