/** The API's size limits: what one request may carry or ask for. */
export const LIMITS = {
  collectionName: 128,
  description: 1024,
  contentChars: 65_536,
  memoriesPerRequest: 1000,
  /** Memories one bulk delete removes at most (a client loops while `has_more`). */
  deletesPerRequest: 1000,
  idChars: 128,
  queryChars: 4096,
  topK: 100,
  pageSize: 1000,
  metadataBytes: 16_384,
  metadataDepth: 5,
} as const;
