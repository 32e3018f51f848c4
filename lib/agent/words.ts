/**
 * Word matching for the local engine's memory search: lower-cased words,
 * common words dropped, a light plural/suffix fold.
 *
 * @module
 */

const STOP = new Set(
  ("a an the and or but of to in on at for by with from as is are was were be been " +
    "it its this that these those i me my we our you your he she they them his her " +
    "do does did what when where who whom which why how about know tell any anything " +
    "there their have has had will would can could should please just so than then " +
    "remember note forget memory memories project").split(" "),
);

/** Folds a word so "meetings" matches "meeting" and "deployed" matches "deploy". */
function fold(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return word.slice(0, -3) + "y";
  if (word.length > 4 && word.endsWith("ing")) return word.slice(0, -3);
  if (word.length > 3 && word.endsWith("ed")) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

/**
 * The meaningful words of a text, folded.
 *
 * @example
 * ```ts
 * import { keywords } from "./words.ts";
 * console.log(keywords("When is the launch meeting?")); // ["launch", "meet"]
 * ```
 */
export function keywords(text: string): string[] {
  const words = text.toLowerCase().normalize("NFKC").match(/[\p{L}\p{N}]+/gu) ?? [];
  const out: string[] = [];
  for (const word of words) {
    if (STOP.has(word)) continue;
    const folded = fold(word);
    if (!out.includes(folded)) out.push(folded);
  }
  return out;
}

/**
 * The share of the query's keywords found in the text, from 0 to 1.
 *
 * @example
 * ```ts
 * import { overlap } from "./words.ts";
 * console.log(overlap("launch date", "The launch is on May 3")); // 0.5
 * ```
 */
export function overlap(query: string, text: string): number {
  const q = keywords(query);
  if (q.length === 0) return 0;
  const t = new Set(keywords(text));
  return q.filter((w) => t.has(w)).length / q.length;
}
