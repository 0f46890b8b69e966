/** Structured JSON-lines logging. Never pass tokens or memory contents as fields. */
import { AsyncLocalStorage } from "node:async_hooks";

const requestScope = new AsyncLocalStorage<string>();

/**
 * Tags every line logged from here on in this request's async flow with `request_id` (called
 * once per request by the errors plugin, which owns the id; ~30 ns).
 */
export function enterRequestScope(requestId: string): void {
  requestScope.enterWith(requestId);
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  base: Record<string, unknown> = {},
): Logger {
  const threshold = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < threshold) return;
    // request_id is left out of the line (undefined) outside a request
    const request_id = requestScope.getStore();
    write(JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, request_id, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled: (lvl) => RANK[lvl] >= threshold,
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export const silentLogger: Logger = createLogger("silent");
