/**
 * Reads Prometheus text exposition (what GET /metrics answers) into samples, strictly enough
 * that a malformed line fails the test instead of being skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  /** Sum of the samples of `name` whose labels include all of `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** The samples of `name` whose labels include all of `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function parseValue(raw: string): number {
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN" || raw === "Nan") return NaN;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${raw}`);
  return value;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`malformed exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (match[2]) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let m = LABEL.exec(match[2]); m; m = LABEL.exec(match[2])) {
        labels[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
        consumed = LABEL.lastIndex;
      }
      if (consumed !== match[2].length) throw new Error(`malformed labels: ${line}`);
    }
    samples.push({ name: match[1]!, labels, value: parseValue(match[3]!) });
  }
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    find,
    value: (name, labels) => find(name, labels).reduce((sum, s) => sum + s.value, 0),
  };
}

/** Elysia runs onAfterResponse (where a request is recorded and access-logged) on the next macrotask. */
export const afterResponses = () => new Promise<void>((resolve) => setImmediate(resolve));
