/**
 * What a fact's value says: a date (found by `chrono-node`), a place, an
 * amount, a thing, or what someone does; and whether two values say the
 * same thing ("May 3" and "3 May").
 *
 * @module
 */

import * as chrono from "chrono-node/en";
import { keywords } from "../words.ts";
import { is, type Word } from "./parse.ts";

/** What a fact's value says: a date, a place, an amount, a thing, or what someone does. */
export type Kind = "when" | "where" | "amount" | "what" | `does:${string}`;

/**
 * The kind of a fact's value, from its verb (a linking verb such as "is" or
 * "moved to" names a value; any other says what someone does), its
 * preposition and its words.
 *
 * @example
 * ```ts
 * import { kindOf } from "./values.ts";
 * import { sentences } from "./parse.ts";
 * const words = sentences("on May 3")[0]!.words.slice(1);
 * console.log(kindOf("be", true, "on", words, "May 3"), kindOf("lead", false, "", words, "design")); // when does:lead
 * ```
 */
export function kindOf(verb: string, linking: boolean, prep: string, rest: Word[], bare: string): Kind {
  if (!linking) return `does:${verb}`;
  if ((prep === "at" || prep === "by") && /^\d/.test(bare)) return "when";
  if (rest.some((w) => is(w, "Date"))) return "when";
  // An amount ("$50,000", "12%") is not a date; chrono-node is asked only about the rest.
  const money = rest.some((w) => is(w, "Money") || is(w, "Percent"));
  if (!money && mayBeDate(bare) && chrono.parse(bare).length > 0) return "when";
  if (money || /^\W?\d/.test(bare)) return "amount";
  if (prep === "in" || prep === "at" || rest.some((w) => is(w, "Place"))) return "where";
  return "what";
}

/**
 * Whether chrono-node could find a date in a text: a digit or a word for a
 * day, a month, a time of day or a unit of time. Most values have none, and
 * skipping chrono for them saves most of the cost of reading a page of notes.
 */
// deno-fmt-ignore
const DATE_WORD = new RegExp(
  "\\d|\\b(?:now|today|tonight|tomorrow|tmrw?|yesterday|noon|midnight|morning|afternoon|evening|night|" +
    "weekends?|(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?s?|jan(?:uary)?|feb(?:ruary)?|" +
    "mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|" +
    "dec(?:ember)?|seconds?|minutes?|hours?|days?|weeks?|fortnight|months?|quarters?|years?|decades?)\\b",
  "i",
);

/**
 * Whether a text may hold a date, so chrono-node is worth asking.
 *
 * @example
 * ```ts
 * import { mayBeDate } from "./values.ts";
 * console.log(mayBeDate("next Friday"), mayBeDate("the main hall")); // true false
 * ```
 */
export function mayBeDate(text: string): boolean {
  return DATE_WORD.test(text);
}

/**
 * Whether a fact's kind admits one value at a time (a date, a place…), not several (what someone does).
 *
 * @example
 * ```ts
 * import { exclusive } from "./values.ts";
 * console.log(exclusive("when"), exclusive("does:lead")); // true false
 * ```
 */
export function exclusive(kind: Kind): boolean {
  return !kind.startsWith("does:");
}

/**
 * Whether two values say the same thing: the same words, or the same date.
 *
 * @example
 * ```ts
 * import { sameValue } from "./values.ts";
 * console.log(sameValue("May 3", "3 May"), sameValue("May 3", "June 1")); // true false
 * ```
 */
export function sameValue(a: string, b: string): boolean {
  const ka = keywords(a).sort().join(" ");
  const kb = keywords(b).sort().join(" ");
  if (ka === kb) return true;
  const da = mayBeDate(a) ? chrono.parse(a)[0]?.start : undefined;
  const db = mayBeDate(b) ? chrono.parse(b)[0]?.start : undefined;
  if (!da || !db) return false;
  return (["year", "month", "day", "hour", "minute"] as const).every((c) =>
    da.isCertain(c) === db.isCertain(c) && (!da.isCertain(c) || da.get(c) === db.get(c))
  );
}
