/** A command-line option that must be a positive integer (`--name value`), or a clear error. */
export function positiveArg(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}
