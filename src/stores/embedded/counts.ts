/** A requested result count as an integer in 0..max (NaN and negatives give 0). */
export function clampCount(k: number, max: number): number {
  if (!Number.isFinite(k)) return k === Infinity ? max : 0;
  return Math.max(0, Math.min(max, Math.trunc(k)));
}
