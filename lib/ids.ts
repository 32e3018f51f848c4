/**
 * Identifiers that sort by creation time and cannot be guessed.
 *
 * @module
 */

let lastTime = 0;
let counter = 0;

/**
 * A new id: 9 base-36 characters of time (plus a counter for ids made in the
 * same millisecond, so they still sort in order of creation), then 128 random
 * bits in base 36: 37 characters in all.
 *
 * @example
 * ```ts
 * import { newId } from "./ids.ts";
 * const a = newId();
 * const b = newId();
 * console.log(a < b, /^[0-9a-z]{37}$/.test(a)); // true true
 * ```
 */
export function newId(): string {
  const now = Date.now();
  if (now === lastTime) counter++;
  else {
    lastTime = now;
    counter = 0;
  }
  const time = now.toString(36).padStart(9, "0") +
    counter.toString(36).padStart(3, "0").slice(-3);
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return time + n.toString(36).padStart(25, "0");
}

/** Whether a string has the shape of an id made by {@linkcode newId}. */
export function isId(value: string): boolean {
  return /^[0-9a-z]{37}$/.test(value);
}
