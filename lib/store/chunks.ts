/**
 * Values larger than one KV value, kept in parts. KV refuses a value over
 * 64 KiB (as V8 serializes it) and a commit over about 800 KiB, so a long
 * text is cut into parts of {@linkcode PART_CHARS} characters, each its own
 * value, written over as many commits as it takes. The run log writes its
 * large events this way; a record whose one field can grow (a message's
 * `content`, a run's `result`) keeps that field in parts under
 * `["parts", ...recordKey, n]` and a marker `spilled: {field, parts}` in
 * its place, and {@linkcode restoreSpilled} puts it back on read.
 *
 * @example
 * ```ts
 * import { restoreSpilled, spillIfLarge } from "./chunks.ts";
 * const kv = await Deno.openKv(":memory:");
 * const key = ["messages", "p1", "m1"];
 * const stored = await spillIfLarge(kv, key, { id: "m1", content: "x".repeat(200_000) }, "content");
 * await kv.set(key, stored);
 * console.log(stored.content, "spilled" in stored); // null true
 * const back = await restoreSpilled(kv, key, (await kv.get<{ id: string; content: string }>(key)).value!);
 * console.log(back.content.length); // 200000
 * kv.close();
 * ```
 *
 * @module
 */

import { serialize } from "node:v8";

/** Characters of text per KV value: at most two bytes each as V8 stores strings, well under 64 KiB. */
export const PART_CHARS = 16_000;

/** The largest value Lantern writes in one piece, in bytes (KV's limit is 65,536). */
export const MAX_VALUE_BYTES = 60_000;

/** Characters written per commit when a text is stored part by part (KV allows about 800 KiB). */
const COMMIT_CHARS = 320_000;

/**
 * How many parts of {@linkcode PART_CHARS} a text takes (at least one).
 *
 * @example
 * ```ts
 * import { partCount } from "./chunks.ts";
 * console.log(partCount(""), partCount("x".repeat(16_001))); // 1 2
 * ```
 */
export function partCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / PART_CHARS));
}

/**
 * Part `n` (from 0) of a text.
 *
 * @example
 * ```ts
 * import { partOf } from "./chunks.ts";
 * console.log(partOf("x".repeat(16_001), 1)); // x
 * ```
 */
export function partOf(text: string, n: number): string {
  return text.slice(n * PART_CHARS, (n + 1) * PART_CHARS);
}

/**
 * Whether a value fits in one KV value with a margin. Cheap for small
 * values (no serialization below a quarter of the limit in JSON).
 *
 * @example
 * ```ts
 * import { fitsOneValue } from "./chunks.ts";
 * console.log(fitsOneValue({ text: "short" }), fitsOneValue({ text: "x".repeat(70_000) })); // true false
 * ```
 */
export function fitsOneValue(value: unknown): boolean {
  if ((JSON.stringify(value)?.length ?? 0) * 2 < MAX_VALUE_BYTES / 2) return true;
  return serialize(value).length <= MAX_VALUE_BYTES;
}

/** The key of part `n` of the large field of the record at `owner`. */
export function partKey(owner: Deno.KvKey, n: number): Deno.KvKey {
  return ["parts", ...owner, n];
}

/** The prefix of every part of the records under `owner` (a record's key, or a prefix of keys). */
export function partsPrefix(owner: Deno.KvKey): Deno.KvKey {
  return ["parts", ...owner];
}

/**
 * Writes a text as parts under `owner`, as many commits as it takes, and
 * returns how many parts it has (they expire after `expireIn` ms when given).
 *
 * @example
 * ```ts
 * import { readText, writeText } from "./chunks.ts";
 * const kv = await Deno.openKv(":memory:");
 * console.log(await writeText(kv, ["outputs", "p1", "r1", 0], "y".repeat(40_000))); // 3
 * console.log((await readText(kv, ["outputs", "p1", "r1", 0]))?.length); // 40000
 * kv.close();
 * ```
 */
export async function writeText(
  kv: Deno.Kv,
  owner: Deno.KvKey,
  text: string,
  options: { expireIn?: number } = {},
): Promise<number> {
  const parts = partCount(text);
  const perCommit = Math.floor(COMMIT_CHARS / PART_CHARS);
  for (let from = 0; from < parts; from += perCommit) {
    const op = kv.atomic();
    for (let n = from; n < Math.min(parts, from + perCommit); n++) {
      op.set(partKey(owner, n), partOf(text, n), options);
    }
    const { ok } = await op.commit();
    if (!ok) throw new Error(`Writing part ${from} of a large value failed.`);
  }
  return parts;
}

/**
 * The text written under `owner` by {@linkcode writeText} (its first `parts`
 * parts when the count is known), or null when there is none.
 */
export async function readText(kv: Deno.Kv, owner: Deno.KvKey, parts?: number): Promise<string | null> {
  let text: string | null = null;
  const selector = parts === undefined
    ? { prefix: partsPrefix(owner) }
    : { start: partKey(owner, 0), end: partKey(owner, parts) };
  for await (const entry of kv.list<string>(selector, { batchSize: 100 })) {
    text = (text ?? "") + entry.value;
  }
  return text;
}

/** The marker a record carries while one of its fields is kept in parts. */
export interface Spilled {
  field: string;
  parts: number;
}

/**
 * The record to store at `key`: itself when it fits one KV value; else the
 * record with `field` null and a `spilled` marker, its JSON written as parts
 * first (so no reader finds a marker without its parts).
 */
export async function spillIfLarge<T extends object, K extends keyof T & string>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  record: T,
  field: K,
): Promise<T | (Omit<T, K> & { [F in K]: null } & { spilled: Spilled })> {
  if (fitsOneValue(record)) return record;
  const parts = await writeText(kv, key, JSON.stringify(record[field]));
  return spilledForm(record, field, parts);
}

/** The stored form of a record whose `field` is already written as `parts` parts. */
export function spilledForm<T extends object, K extends keyof T & string>(
  record: T,
  field: K,
  parts: number,
): Omit<T, K> & { [F in K]: null } & { spilled: Spilled } {
  return { ...record, [field]: null, spilled: { field, parts } } as
    & Omit<T, K>
    & { [F in K]: null }
    & { spilled: Spilled };
}

/** A record as read, with its spilled field put back (records without a marker come back as they are). */
export async function restoreSpilled<T>(kv: Deno.Kv, key: Deno.KvKey, record: T): Promise<T> {
  const marker = (record as { spilled?: Spilled } | null)?.spilled;
  if (!marker || typeof marker.field !== "string") return record;
  const text = await readText(kv, key, marker.parts);
  const { spilled: _, ...rest } = record as T & { spilled: Spilled };
  if (text === null) return rest as T;
  return { ...rest, [marker.field]: JSON.parse(text) } as T;
}
