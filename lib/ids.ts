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
 * same millisecond, so they still sort in order of creation), then 25 random
 * base-36 digits (129 bits): 37 characters in all.
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
  let id = lastTime.toString(36).padStart(9, "0") + counter.toString(36).padStart(3, "0");
  // 25 base-36 digits from random bytes: a byte of 252 or more is skipped so that each digit is uniform.
  while (id.length < 37) {
    if (poolAt === pool.length) {
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    const byte = pool[poolAt++]!;
    if (byte < 252) id += DIGITS[byte % 36];
  }
  return id;
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";
/** Random bytes drawn from the system's CSPRNG a page at a time: one call per ~150 ids, not one per id. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/** Whether a string has the shape of an id made by {@linkcode newId}. */
export function isId(value: string): boolean {
  return /^[0-9a-z]{37}$/.test(value);
}
