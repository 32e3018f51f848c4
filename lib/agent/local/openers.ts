/**
 * How a request opens: the words that ask to remember ("remember",
 * "note to self", "keep in mind") and those that ask for a summary of the
 * project ("summarize", "catch me up", "where are we?").
 *
 * @module
 */

import { is, type Word } from "./parse.ts";

/**
 * How many words say "remember": 1 for "remember", 3 for "note to self", 0 for none.
 *
 * @example
 * ```ts
 * import { rememberHead } from "./openers.ts";
 * import { sentences } from "./parse.ts";
 * console.log(rememberHead(sentences("note to self: tea at 4")[0]!.words)); // 3
 * ```
 */
export function rememberHead(w: Word[]): number {
  const [a, b, c] = [w[0]?.norm, w[1]?.norm, w[2]?.norm];
  if ((a === "do" || a === "never") && b === "not" && c === "forget") return 3;
  if (a === "never" && b === "forget") return 2;
  if (a === "note" && b === "to" && c === "self") return 3;
  if ((a === "make" || a === "take") && (b === "a" || b === "note")) {
    const n = b === "a" ? 3 : 2;
    return (b === "a" ? c === "note" : true) ? n + (w[n]?.norm === "of" ? 1 : 0) : 0;
  }
  if ((a === "jot" || a === "write") && b === "down") return 2;
  if (a === "keep" && b === "in" && c === "mind") return 3;
  if (
    a === "add" && (b === "a" || b === "this" || b === "to") &&
    (c === "memory" || c === "note" || c === "fact")
  ) return 3;
  if (a === "add" && (b === "memory" || b === "note")) return 2;
  if (
    a === "remember" || a === "memorize" || a === "memorise" || a === "note" || a === "save" ||
    a === "store" ||
    a === "record"
  ) {
    // "Remembering names is hard" and "the note says" are not requests.
    if (is(w[0], "Gerund")) return 0;
    return 1;
  }
  return 0;
}

/**
 * The words that ask for a summary of the project ("catch me up", "give me
 * an overview"), or "" when the words ask for none. `bare` is the words as
 * one lower-case phrase.
 *
 * @example
 * ```ts
 * import { summarizeCue } from "./openers.ts";
 * import { sentences } from "./parse.ts";
 * console.log(summarizeCue(sentences("Catch me up")[0]!.words, "catch me up")); // catch me up
 * ```
 */
export function summarizeCue(w: Word[], bare: string): string {
  const a = w[0]!.norm;
  if (
    ["summarize", "summarise", "recap"].includes(a) &&
    !w.some((x, i) =>
      i > 0 && ["about", "of"].includes(x.norm) &&
      !["the", "this", "my", "our"].includes(w[i + 1]?.norm ?? "")
    )
  ) return a;
  if (a === "sum" && w[1]?.norm === "up") return "sum up";
  if (
    /^(?:catch me up|bring me up to (?:speed|date)|where are we|where do (?:we|things) stand)\b/.test(bare)
  ) return bare;
  if (
    /^give (?:me|us) (?:a|an|the) (?:quick |short |brief )?(?:summary|overview|recap|rundown)(?: of (?:the|this|my|our) project)?$/
      .test(bare)
  ) return bare;
  if (
    /^(?:(?:a|the|project|projects|quick|short|brief) )*(?:summary|overview|recap|rundown|status)(?: (?:of|for) (?:the|this|my|our) project)?$/
      .test(bare)
  ) return bare;
  if (
    /^what is the (?:project )?(?:summary|overview|status)(?: (?:of|for) (?:the|this|my|our) project)?$/.test(
      bare,
    )
  ) return bare;
  if (/^how is (?:the|this|my|our) project(?: going)?$/.test(bare)) return bare;
  return "";
}
