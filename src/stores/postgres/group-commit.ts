/**
 * Group commit: writes to one key (a collection) that arrive while a transaction of that key is
 * running wait and then go together, in arrival order, in the next one. A collection's writes
 * serialise on its change-log head (change-log.ts), and on a busy box most of a transaction's
 * time is round trips and the event loop's turns between them, so one transaction for many
 * writes multiplies the rate a collection can be written at and shortens every wait.
 *
 * `canJoin` keeps apart what must not share a transaction (the same memory written twice: each
 * write keeps its own change-log entry). When a shared transaction fails, each of its writes is
 * retried alone, so one write's failure is never another's.
 */
export class GroupCommit<T, R> {
  private readonly queues = new Map<string, { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[]>();
  private readonly running = new Set<string>();
  readonly stats = { transactions: 0, writes: 0, isolatedRetries: 0 };

  constructor(
    private readonly commit: (key: string, items: T[]) => Promise<R>,
    private readonly canJoin: (batch: T[], next: T) => boolean,
  ) {}

  /** Resolves with the result of the transaction that committed `item` (shared by its group). */
  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) this.queues.set(key, (queue = []));
      queue.push({ item, resolve, reject });
      if (!this.running.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let queue = this.queues.get(key); queue && queue.length > 0; queue = this.queues.get(key)) {
        const group = [queue.shift()!];
        while (queue.length > 0 && this.canJoin(group.map((g) => g.item), queue[0]!.item)) group.push(queue.shift()!);
        if (queue.length === 0) this.queues.delete(key);
        await this.run(key, group);
      }
    } finally {
      this.running.delete(key);
    }
  }

  private async run(key: string, group: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[]): Promise<void> {
    this.stats.transactions++;
    this.stats.writes += group.length;
    try {
      const result = await this.commit(key, group.map((g) => g.item));
      for (const g of group) g.resolve(result);
      return;
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
    }
    for (const g of group) {
      this.stats.isolatedRetries++;
      try {
        g.resolve(await this.commit(key, [g.item]));
      } catch (error) {
        g.reject(error);
      }
    }
  }
}
