/**
 * Cutting a tool's output down to a size, keeping its shape: what a reader
 * (a person, the island, a model) expects to find is still there, only
 * shorter. Lists keep their first items, objects keep their small fields
 * whole and cut the large ones, strings end in `…`.
 *
 * @module
 */

/** The JSON length of a value (`undefined` counts as `null`). */
function size(value: unknown): number {
  return (JSON.stringify(value) ?? "null").length;
}

/** Whether `cut` still has every field `item` has (always, for what is not an object). */
function keepsFields(item: unknown, cut: unknown): boolean {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return true;
  const kept = cut as Record<string, unknown>;
  return Object.entries(item).every(([k, v]) => v === undefined || k in kept);
}

/** A string cut so its JSON (with quotes and escapes) is at most `budget` characters, or undefined. */
function cutString(text: string, budget: number): string | undefined {
  if (budget < 3) return undefined;
  let end = Math.min(text.length, budget - 3);
  for (;;) {
    // Never end on half of a surrogate pair: the result must be well-formed.
    if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1]!)) end--;
    const cut = end < text.length ? `${text.slice(0, end)}…` : text;
    const over = size(cut) - budget;
    if (over <= 0) return cut;
    if (end === 0) return undefined;
    end = Math.max(0, end - Math.max(1, over));
  }
}

/**
 * A value like `value` whose JSON is at most `budget` characters, or
 * undefined when not even an empty one fits.
 *
 * @example
 * ```ts
 * import { cutToFit } from "./cut_output.ts";
 * const output = { count: 3, memories: ["a".repeat(40), "b".repeat(40), "c".repeat(40)] };
 * const cut = cutToFit(output, 100) as typeof output;
 * console.log(cut.count, cut.memories.length, JSON.stringify(cut).length <= 100); // 3 2 true
 * ```
 */
export function cutToFit(value: unknown, budget: number): unknown {
  if (size(value) <= budget) return value;
  if (typeof value === "string") return cutString(value, budget);
  // Not even an empty list or object fits.
  if (budget < 2 && value !== null && typeof value === "object") return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    let used = 2;
    for (const item of value) {
      const comma = out.length > 0 ? 1 : 0;
      const whole = size(item);
      if (used + comma + whole <= budget) {
        out.push(item);
        used += comma + whole;
        continue;
      }
      const cut = cutToFit(item, budget - used - comma);
      // A cut item keeps every field (a memory without its text would break whoever reads the list).
      if (cut !== undefined && keepsFields(item, cut)) out.push(cut);
      break;
    }
    return out;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    // Small fields first, whole: a count or a flag outlives the long list beside it.
    const bySize = entries.map(([k, v]) => ({ k, v, cost: JSON.stringify(k).length + 1 + size(v) }))
      .sort((a, b) => a.cost - b.cost);
    const kept = new Map<string, unknown>();
    let used = 2;
    for (const { k, v, cost } of bySize) {
      const comma = kept.size > 0 ? 1 : 0;
      if (used + comma + cost <= budget) {
        kept.set(k, v);
        used += comma + cost;
        continue;
      }
      const head = JSON.stringify(k).length + 1;
      const cut = cutToFit(v, budget - used - comma - head);
      if (cut === undefined) continue;
      kept.set(k, cut);
      used += comma + head + size(cut);
    }
    // Back in the original order of the fields.
    return Object.fromEntries(entries.filter(([k]) => kept.has(k)).map(([k]) => [k, kept.get(k)]));
  }
  return undefined;
}
