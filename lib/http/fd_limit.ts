/**
 * The open-file limit, and whether it is enough for the stream caps. Every
 * connection is a file descriptor; Deno raises its soft limit to the hard one
 * at start-up, so the hard limit (`ulimit -Hn`) is what bounds connections.
 *
 * @module
 */

import type { Config } from "../config.ts";

/** Descriptors kept free for KV, listeners, logs and short requests besides the streams. */
export const FD_HEADROOM = 256;

/** The open-file limits of this process. */
export interface FdLimits {
  soft: number;
  hard: number;
}

/**
 * Parses the "Max open files" line of `/proc/self/limits`, or null.
 *
 * @example
 * ```ts
 * import { parseProcLimits } from "./fd_limit.ts";
 * console.log(parseProcLimits("Max open files            1024                 4096                 files")); // { soft: 1024, hard: 4096 }
 * ```
 */
export function parseProcLimits(text: string): FdLimits | null {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!match) return null;
  const value = (s: string) => (s === "unlimited" ? Infinity : Number(s));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/**
 * Reads this process's open-file limits: `/proc/self/limits` on Linux, else
 * `sh -c "ulimit -Sn; ulimit -Hn"` (when running commands is allowed). Null
 * when neither can be read.
 *
 * @example
 * ```ts ignore
 * import { readFdLimits } from "./fd_limit.ts";
 * console.log(await readFdLimits()); // { soft: 20000, hard: 20000 }
 * ```
 */
export async function readFdLimits(): Promise<FdLimits | null> {
  try {
    const parsed = parseProcLimits(await Deno.readTextFile("/proc/self/limits"));
    if (parsed) return parsed;
  } catch { /* not Linux, or not allowed to read it */ }
  try {
    const out = await new Deno.Command("sh", { args: ["-c", "ulimit -Sn; ulimit -Hn"], stderr: "null" })
      .output();
    const [soft, hard] = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
    const value = (s: string | undefined) => (s === "unlimited" ? Infinity : Number(s));
    const limits = { soft: value(soft), hard: value(hard) };
    return Number.isNaN(limits.soft) || Number.isNaN(limits.hard) ? null : limits;
  } catch {
    return null;
  }
}

/** How many descriptors the stream caps can take at once, with headroom; null when uncapped. */
export function fdsNeeded(config: Config): number | null {
  if (!config.limits || config.maxStreams === 0) return null;
  return config.maxStreams + FD_HEADROOM;
}

/**
 * A start-up warning when the open-file limit cannot hold
 * `LANTERN_MAX_STREAMS` streams, or null when it can (or is unknown).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { fdWarning } from "./fd_limit.ts";
 * const config = loadConfig({ LANTERN_MAX_STREAMS: "10000" });
 * console.log(fdWarning(config, { soft: 1024, hard: 1024 })?.startsWith("WARNING")); // true
 * console.log(fdWarning(config, { soft: 65536, hard: 65536 })); // null
 * ```
 */
export function fdWarning(config: Config, limits: FdLimits | null): string | null {
  if (!limits) return null;
  const have = Math.max(limits.soft, limits.hard);
  const need = fdsNeeded(config) ?? 10_000 + FD_HEADROOM;
  if (have >= need) return null;
  return `WARNING: the open-file limit is ${have}, but ${
    config.maxStreams || "unlimited"
  } event streams (LANTERN_MAX_STREAMS) and headroom need ${need}. ` +
    `Connections past the limit are refused and the server restarts its listener; raise it ` +
    `(ulimit -n ${need} in the shell, LimitNOFILE= in a systemd unit, --ulimit nofile= in Docker) ` +
    `or lower LANTERN_MAX_STREAMS.`;
}
