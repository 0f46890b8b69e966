/**
 * How many memories the importer sends per request. The API embeds a request's memories before it
 * answers, and answers 503 to a request still running after REQUEST_TIMEOUT_MS (30 s by default),
 * so a fixed 1,000 can fail forever on a slow or busy machine (at ~25 memories/s, 1,000 take 40 s)
 * and each retry adds the same work again. So the size starts small, follows the measured time per
 * memory towards `targetMs` a request (at most doubling each time, never above `max`), and halves
 * when a request was answered 503 or timed out; it then never grows back past that halved size
 * (growing into the failing size again would only repeat the failure).
 */
export class BatchSizer {
  private current: number;
  private ceiling: number;

  constructor(
    max: number,
    private readonly targetMs = 10_000,
    start = 100,
  ) {
    this.ceiling = Math.max(1, max);
    this.current = Math.min(this.ceiling, Math.max(1, start));
  }

  get size(): number {
    return this.current;
  }

  /** A request of `count` memories took `ms`. */
  observe(count: number, ms: number): void {
    const perMemory = Math.max(ms, 1) / Math.max(count, 1);
    const fits = Math.floor(this.targetMs / perMemory);
    this.current = Math.max(1, Math.min(this.ceiling, fits, this.current * 2));
  }

  /** A request of `count` memories could not be finished in time. */
  shrink(count: number): void {
    this.current = Math.max(1, Math.floor(Math.min(count, this.current) / 2));
    this.ceiling = this.current;
  }
}
