/**
 * Times a store adapter's calls without touching the adapter: `instrumentCalls` returns an
 * object that behaves as the adapter (its prototype is the adapter, so every other property,
 * e.g. an IndexWriter's `name`, reads through) whose listed async methods record their
 * latency and failures under (dependency, operation). Applied where the runtime wires the
 * adapters, so the HTTP layer and the pipeline still see only the port interfaces.
 */
import { DuplicateNameError, InvalidCursorError } from "../domain/errors";
import type { Metrics } from "./metrics";

type AsyncMethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T] &
  string;

/** Answers about the caller's input, not a failure of the dependency. */
const isDependencyFailure = (error: unknown) => !(error instanceof DuplicateNameError || error instanceof InvalidCursorError);

export function instrumentCalls<T extends object>(
  target: T,
  metrics: Pick<Metrics, "dependency">,
  dependency: string,
  operations: Record<AsyncMethodKeys<T>, string> | readonly AsyncMethodKeys<T>[],
): T {
  const wrapper = Object.create(target) as T;
  const entries: [string, string][] = Array.isArray(operations)
    ? operations.map((method) => [method, method])
    : Object.entries(operations as Record<string, string>);
  for (const [method, operation] of entries) {
    const original = (target as Record<string, unknown>)[method];
    if (typeof original !== "function") throw new TypeError(`${dependency} adapter has no method ${method}`);
    const timer = metrics.dependency(dependency, operation);
    Object.defineProperty(wrapper, method, {
      value: async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (original as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          if (isDependencyFailure(error)) timer.error();
          throw error;
        } finally {
          timer.observe((performance.now() - started) / 1000);
        }
      },
    });
  }
  return wrapper;
}
