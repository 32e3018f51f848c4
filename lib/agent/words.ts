/**
 * Word matching for the local engine's memory search: lower-cased words with
 * accents removed, common words dropped, a light suffix fold, and a score
 * that does not punish a question for naming what it asks ("the launch
 * date" still finds "The launch is on May 3").
 *
 * @module
 */

const STOP = new Set(
  ("a an the and or but nor of to in on at for by with from as into onto about over " +
    "is are was were be been being am it its this that these those " +
    "i me my mine we us our ours you your yours he him his she her hers they them their theirs " +
    "do does did done what whats when whens where wheres who whos whom whose which why how hows " +
    "know knew tell told say said says remind any anything something some all also very " +
    "there theres here have has had will would can could should shall might must " +
    "please just so than then too not no yes if ok okay hi hey hello thanks thank " +
    "s t d m ll re ve " +
    "remember note notes forget memory memories project").split(" "),
);

/**
 * Words a question uses to say what kind of answer it wants. They count for
 * a memory that has them, but not against one that does not: "the launch
 * date" asks about the launch.
 */
const VAGUE = new Set(
  ("date time day hour week month year place name number thing stuff " +
    "info information detail status kind sort").split(" ").map(fold),
);

/**
 * Folds a word to a rough stem, the same way for a query and a memory, so
 * "meetings", "meeting" and "meet" match, as do "launches" and "launched",
 * "planned" and "plan", "moving" and "move".
 */
function fold(word: string): string {
  let w = word;
  let stripped = false;
  // Plurals and third person first, so "meetings" folds like "meeting".
  if (w.length > 4 && w.endsWith("ies")) w = w.slice(0, -3) + "y";
  else if (w.length > 4 && /(?:ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  // Then -ing and -ed, when a real stem is left ("bring" and "need" stay).
  if (w.length > 5 && w.endsWith("ing")) {
    w = w.slice(0, -3);
    stripped = true;
  } else if (w.length > 4 && w.endsWith("ed") && !w.endsWith("eed")) {
    w = w.slice(0, -2);
    stripped = true;
  }
  // "planned" -> "plann" -> "plan"; "called" keeps its double l, "eggs" its g.
  if (stripped && /([b-df-hj-kmnp-rtv-y])\1$/.test(w)) w = w.slice(0, -1);
  // A final e comes and goes ("move", "moved", "moving"): drop it everywhere.
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/**
 * The meaningful words of a text, folded, without repeats.
 *
 * @example
 * ```ts
 * import { keywords } from "./words.ts";
 * console.log(keywords("When are the launch meetings?")); // ["launch", "meet"]
 * ```
 */
export function keywords(text: string): string[] {
  const plain = text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
  const words = plain.match(/[\p{L}\p{N}]+/gu) ?? [];
  // A Set keeps the first-seen order and stays linear on a long message.
  const out = new Set<string>();
  for (const word of words) {
    if (!STOP.has(word)) out.add(fold(word));
  }
  return [...out];
}

/**
 * How well a text answers a query, from 0 to 1: the share of the query's
 * keywords found in the text, where vague words ("date", "time", "name")
 * count only when the text has them too.
 *
 * @example
 * ```ts
 * import { overlap } from "./words.ts";
 * console.log(overlap("the launch date", "The launch is on May 3")); // 1
 * console.log(overlap("launch budget", "The launch is on May 3")); // 0.5
 * ```
 */
export function overlap(query: string, text: string): number {
  const q = keywords(query);
  if (q.length === 0) return 0;
  const t = new Set(keywords(text));
  const vague = new Set(q.filter((w) => VAGUE.has(w)));
  const strong = q.filter((w) => !vague.has(w));
  // A query of vague words only ("the date?") must match them.
  if (strong.length === 0) return q.filter((w) => t.has(w)).length / q.length;
  const strongHits = strong.filter((w) => t.has(w)).length;
  if (strongHits === 0) return 0;
  const vagueHits = [...vague].filter((w) => t.has(w)).length;
  return (strongHits + vagueHits) / (strong.length + vagueHits);
}
