/**
 * Identifiers that sort by creation time and cannot be guessed.
 *
 * @module
 */

let lastTime = 0;
let counter = 0;
/** Ids per millisecond that three base-36 characters can number. */
const COUNTER_LIMIT = 36 ** 3;

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
  // A clock that steps back (an NTP correction) or more ids in one
  // millisecond than the counter holds must not break the order: keep
  // counting on the last time used, moving it on when the counter is full.
  if (now > lastTime) {
    lastTime = now;
    counter = 0;
  } else if (++counter >= COUNTER_LIMIT) {
    lastTime++;
    counter = 0;
  }
  const time = lastTime.toString(36).padStart(9, "0") + counter.toString(36).padStart(3, "0");
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return time + n.toString(36).padStart(25, "0");
}

/** Whether a string has the shape of an id made by {@linkcode newId}. */
export function isId(value: string): boolean {
  return /^[0-9a-z]{37}$/.test(value);
}
