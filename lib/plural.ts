/**
 * A count with its noun, singular or plural.
 *
 * @example
 * ```ts
 * import { plural } from "./plural.ts";
 * console.log(plural(1, "memory", "memories"), plural(3, "action")); // 1 memory 3 actions
 * ```
 *
 * @module
 */

/** `n` and `one` (for 1) or `many` (default: `one` + "s"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
