/**
 * Opening Lantern's Deno KV, and helpers every store shares.
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Opens the KV at `path`: a file (its folder is created first), `:memory:`,
 * or, for an empty path, the platform's default (Deno Deploy's KV).
 *
 * @example
 * ```ts
 * import { openKv } from "./kv.ts";
 * const kv = await openKv(":memory:");
 * kv.close();
 * ```
 */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path === "") return await Deno.openKv();
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

/** Deletes every key under a prefix, at most 1,000 mutations per commit. */
export async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let count = 0;
  let batch = kv.atomic();
  let inBatch = 0;
  for await (const entry of kv.list({ prefix }, { batchSize: 500 })) {
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

/** Now, as an ISO 8601 string. */
export function isoNow(): string {
  return new Date().toISOString();
}
