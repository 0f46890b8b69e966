/** Decorates one method of an adapter, forwarding everything else to it (for tests that observe calls). */
export function around<T extends object, K extends keyof T>(
  inner: T,
  method: K,
  wrapper: T[K] extends (...args: infer A) => infer R ? (original: (...args: A) => R, ...args: A) => R : never,
): T {
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const bound = value.bind(target);
      return prop === method ? (...args: unknown[]) => (wrapper as (...a: unknown[]) => unknown)(bound, ...args) : bound;
    },
  });
}
