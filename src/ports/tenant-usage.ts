/** What one tenant (a token's `sub`) stores: what quotas are checked against. */
export interface Usage {
  collections: number;
  memories: number;
  /** UTF-8 bytes of content plus metadata JSON. */
  bytes: number;
}

export interface TenantUsage {
  usage(owner: string): Promise<Usage>;
}
