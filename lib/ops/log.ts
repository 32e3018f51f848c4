/**
 * Structured logs: one line per request and per run transition. `json`
 * writes one JSON object a line (for a machine), `pretty` a short readable
 * line (the default on a terminal), `off` nothing (benchmarks). Fields are
 * ids, codes, statuses and numbers: never a secret, never message text.
 *
 * @module
 */

/** A log line's fields besides its time, level and message. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where log lines go. */
export interface Logger {
  readonly mode: "json" | "pretty" | "off";
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const encoder = new TextEncoder();

function pretty(time: string, level: string, msg: string, fields: LogFields): string {
  const parts = [time.slice(11, 23), level === "info" ? "" : level.toUpperCase(), msg];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    const text = String(value);
    parts.push(`${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`);
  }
  return parts.filter(Boolean).join(" ");
}

/**
 * A logger in `mode`, writing lines to `write` (by default stdout, in one
 * synchronous write per line so lines from concurrent requests never mix).
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("json", (line) => lines.push(line));
 * log.info("run started", { runId: "r1", projectId: "p1" });
 * const entry = JSON.parse(lines[0]!);
 * console.log(entry.level, entry.msg, entry.runId); // info run started r1
 * ```
 */
export function createLogger(
  mode: Logger["mode"],
  write: (line: string) => void = (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
): Logger {
  const emit = (level: string, msg: string, fields: LogFields = {}) => {
    if (mode === "off") return;
    const time = new Date().toISOString();
    try {
      write(
        mode === "json" ? JSON.stringify({ time, level, msg, ...fields }) : pretty(time, level, msg, fields),
      );
    } catch {
      // A closed stdout must not take a request or a run down with it.
    }
  };
  return {
    mode,
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger("off");
