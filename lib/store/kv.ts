/**
 * Opening Lantern's Deno KV, and helpers every store shares.
 *
 * @module
 */

import { dirname } from "node:path";

/** Whether a KV path is a KV Connect URL (Deno Deploy's or a self-hosted `denokv`). */
export function isKvConnectUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/**
 * Why a KV path cannot be opened with this environment, or null when it can:
 * a KV Connect URL needs `DENO_KV_ACCESS_TOKEN`.
 *
 * @example
 * ```ts
 * import { kvPathProblem } from "./kv.ts";
 * console.log(kvPathProblem("https://kv.example.com/db", {})?.startsWith("LANTERN_KV_PATH")); // true
 * console.log(kvPathProblem("./data/lantern.kv", {})); // null
 * ```
 */
export function kvPathProblem(path: string, env: Record<string, string | undefined>): string | null {
  if (!isKvConnectUrl(path)) return null;
  try {
    new URL(path);
  } catch {
    return `LANTERN_KV_PATH "${path}" looks like a URL but is not a valid one.`;
  }
  if (!env.DENO_KV_ACCESS_TOKEN) {
    return `LANTERN_KV_PATH "${path}" is a KV Connect URL, which needs an access token: ` +
      `set DENO_KV_ACCESS_TOKEN.`;
  }
  return null;
}

/**
 * Opens the KV at `path`: a file (its folder is created first), `:memory:`,
 * a KV Connect URL (`https://…`, with `DENO_KV_ACCESS_TOKEN`; no folder is
 * made), or, for an empty path, the platform's default (Deno Deploy's KV).
 *
 * @example
 * ```ts
 * import { openKv } from "./kv.ts";
 * const kv = await openKv(":memory:");
 * kv.close();
 * ```
 */
export async function openKv(
  path: string,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<Deno.Kv> {
  if (path === "") return await Deno.openKv();
  if (isKvConnectUrl(path)) {
    const problem = kvPathProblem(path, env);
    if (problem) throw new Error(problem);
    try {
      return await Deno.openKv(path);
    } catch (error) {
      throw new Error(
        `The KV Connect database at "${path}" could not be opened: ${(error as Error).message}`,
      );
    }
  }
  if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
  return await Deno.openKv(path);
}

/** Reads every value under a prefix, in key order (pages of 1,000). */
export async function listValues<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  options: { reverse?: boolean; limit?: number } = {},
): Promise<T[]> {
  const out: T[] = [];
  const batchSize = Math.min(options.limit ?? 500, 500);
  for await (const entry of kv.list<T>({ prefix }, { ...options, batchSize })) {
    out.push(entry.value);
  }
  return out;
}

/** Deletes every key under a prefix (before `end` when given), at most 1,000 mutations per commit. */
export async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey, end?: Deno.KvKey): Promise<number> {
  let count = 0;
  let batch = kv.atomic();
  let inBatch = 0;
  for await (const entry of kv.list(end ? { prefix, end } : { prefix }, { batchSize: 500 })) {
    batch.delete(entry.key);
    count++;
    if (++inBatch === 1000) {
      await batch.commit();
      batch = kv.atomic();
      inBatch = 0;
    }
  }
  if (inBatch > 0) await batch.commit();
  return count;
}

/**
 * Now, as an ISO 8601 string (what `new Date().toISOString()` gives, for a
 * fraction of its cost: a run stamps many progress events a second).
 *
 * @example
 * ```ts
 * import { isoNow } from "./kv.ts";
 * console.log(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(isoNow())); // true
 * ```
 */
export function isoNow(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  // The text up to the second is kept (progress events come many a second): only the milliseconds are new.
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const millis = ms - second * 1000;
  return isoPrefix + (millis < 10 ? "00" : millis < 100 ? "0" : "") + millis + "Z";
}

let isoSecond = Number.NaN;
let isoPrefix = "";

/**
 * Whether an error is SQLite's "database is locked": another isolate or
 * process holds the KV file for a moment (the isolates of `deno serve
 * --parallel` opening one file at once), which SQLite reports at once
 * instead of waiting.
 *
 * @example
 * ```ts
 * import { isLocked } from "./kv.ts";
 * console.log(isLocked(new TypeError("database is locked")), isLocked(new Error("Value too large"))); // true false
 * ```
 */
export function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked/i.test(error.message);
}

/**
 * Runs `work`, and again after a short pause while it fails on a locked KV
 * file (see {@linkcode isLocked}), for up to `ms`; any other error, or the
 * lock past `ms`, is thrown. For idempotent start-up work (migrations, the
 * first lease), which the isolates of `deno serve --parallel` do at once.
 *
 * @example
 * ```ts
 * import { whileLocked } from "./kv.ts";
 * let tries = 0;
 * const out = await whileLocked(async () => {
 *   if (++tries < 3) throw new TypeError("database is locked");
 *   return "done";
 * });
 * console.log(out, tries); // done 3
 * ```
 */
export async function whileLocked<T>(work: () => Promise<T>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (let pause = 10;; pause = Math.min(pause * 2, 500)) {
    try {
      return await work();
    } catch (error) {
      if (!isLocked(error) || Date.now() + pause > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
