/**
 * How the local engine words things: facts in bold or as a list, counts with
 * the right plural, the user's words quoted and shortened.
 *
 * @module
 */

import type { Memory } from "../../protocol.ts";

/**
 * A count with its noun, singular or plural.
 *
 * @example
 * ```ts
 * import { plural } from "./wording.ts";
 * console.log(plural(1, "fact"), plural(3, "memory", "memories")); // 1 fact 3 memories
 * ```
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

// One formatter for every count: toLocaleString builds a new one on each call (about 0.1 ms).
const COUNT = new Intl.NumberFormat("en");

/**
 * A number with thousands separators ("2,504").
 *
 * @example
 * ```ts
 * import { count } from "./wording.ts";
 * console.log(count(2504)); // 2,504
 * ```
 */
export function count(n: number): string {
  return COUNT.format(n);
}

/**
 * Capitalizes a fact's first letter, unless its first word is like "iPhone" or "eBay".
 *
 * @example
 * ```ts
 * import { capitalize } from "./wording.ts";
 * console.log(capitalize("the launch is on May 3"), capitalize("iPhone sales")); // The launch is on May 3 iPhone sales
 * ```
 */
export function capitalize(text: string): string {
  const first = text.split(/\s/, 1)[0] ?? "";
  if (/\p{Lu}/u.test(first.slice(1))) return text;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Lower-cases a sentence's first word when it is a common one ("The", "Our"), not a name.
 *
 * @example
 * ```ts
 * import { uncapitalize } from "./wording.ts";
 * console.log(uncapitalize("The budget is 5k"), uncapitalize("Ana leads design")); // the budget is 5k Ana leads design
 * ```
 */
export function uncapitalize(text: string): string {
  return text.replace(
    /^(?:The|A|An|This|That|These|Those|Our|My|Your|Its|Their|We|It|There)\b/,
    (word) => word.toLowerCase(),
  );
}

/**
 * The user's words on one line, cut with an ellipsis past `max` characters.
 *
 * @example
 * ```ts
 * import { shorten } from "./wording.ts";
 * console.log(shorten("a\nb", 10)); // a b
 * ```
 */
export function shorten(text: string, max = 80): string {
  const oneLine = oneSpaced(text).trim();
  return oneLine.length > max ? oneLine.slice(0, max - 1).trimEnd() + "…" : oneLine;
}

/**
 * A short quote of the user's words for an answer.
 *
 * @example
 * ```ts
 * import { quote } from "./wording.ts";
 * console.log(quote("the launch")); // "the launch"
 * ```
 */
export function quote(text: string, max = 80): string {
  return `"${shorten(text, max)}"`;
}

/**
 * A fact, bold when it fits on a line, quoted as a block when it does not.
 *
 * @example
 * ```ts
 * import { bold } from "./wording.ts";
 * console.log(bold("Tea is at 4")); //  **Tea is at 4**
 * ```
 */
export function bold(text: string): string {
  return text.includes("\n") ? `\n\n${text.split("\n").map((l) => `> ${l}`).join("\n")}` : ` **${text}**`;
}

/**
 * Memories (or texts) as a bulleted list, one line each.
 *
 * @example
 * ```ts
 * import { bullets } from "./wording.ts";
 * console.log(bullets(["A", "B"])); // - A\n- B
 * ```
 */
export function bullets(items: readonly (Memory | string)[]): string {
  return items.map((m) => `- ${oneSpaced(typeof m === "string" ? m : m.text)}`).join("\n");
}

/** Runs of white space as one space; most texts have none, and are returned as they are (no copy). */
function oneSpaced(text: string): string {
  return UNEVEN_SPACE.test(text) ? text.replace(/\s+/g, " ") : text;
}

const UNEVEN_SPACE = /\s\s|[^\S ]/;

/**
 * Cuts a text to at most `max` characters, at a word boundary when it can.
 *
 * @example
 * ```ts
 * import { clip } from "./wording.ts";
 * console.log(clip("the launch party", 12)); // the launch
 * ```
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return (space > max / 2 ? cut.slice(0, space) : cut).trim();
}

/** What the local engine can do, for greetings, help and requests it has no tool for. */
export const CAPABILITIES = [
  '- **Remember** a fact: "Remember that the launch is on May 3", "Note that Ana leads design".',
  '- **Update** a fact: "The launch moved to May 10", "Actually the budget is $6,000".',
  '- **Answer** from what I remember: "When is the launch?", "Who leads design?", "Is the launch on May 3?".',
  '- **Forget** a fact: "Forget the launch date".',
  '- **List** everything: "What do you remember?"',
  '- **Summarize** the project: "Summarize the project".',
].join("\n");
