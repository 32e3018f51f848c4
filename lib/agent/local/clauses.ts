/**
 * The shape of a message: its clauses ("…, and tell me…"), the openers and
 * closers around a request ("Hi,", "please", "can you", "thanks"), and the
 * user's own characters for a fact.
 *
 * @module
 */

import { hasWordCharacter, is, type Sentence, withoutMarks, type Word } from "./parse.ts";
import { FILLERS, FORGET, GREETINGS, HEADS, REMEMBER, WH } from "./lexicon.ts";
import { factIn } from "./facts.ts";

/** A stretch of words with the text it came from. */
export interface Span {
  text: string;
  words: Word[];
  sentence: Sentence;
}

/** The words only, lower case, for fixed phrases. */
export const phrase = (ws: Word[]): string => {
  const joined = ws.map((w) => w.norm).join(" ");
  // Norms hold no spaces of their own but for the odd empty one: tidy only then.
  return /^\s|\s\s|\s$/.test(joined) ? joined.replace(/\s+/g, " ").trim() : joined;
};

/**
 * Splits a sentence where a second request starts: "…, and tell me…", "… then forget…".
 *
 * @example
 * ```ts
 * import { clauses } from "./clauses.ts";
 * import { sentences } from "./parse.ts";
 * const text = "Remember that Ana leads design and tell me when the launch is";
 * const [sentence] = sentences(text);
 * console.log(clauses({ text, words: sentence!.words, sentence: sentence! }).length); // 2
 * ```
 */
export function clauses(span: Span): Span[] {
  const ws = span.words;
  const out: Span[] = [];
  let from = 0;
  for (let i = 1; i < ws.length - 1; i++) {
    const joiner = ws[i]!.norm === "and" || ws[i]!.norm === "then" || ws[i]!.norm === "also";
    if (!joiner) continue;
    let next = i + 1;
    while (
      next < ws.length &&
      (ws[next]!.norm === "then" || ws[next]!.norm === "also" || ws[next]!.norm === "please")
    ) next++;
    const head = ws[next];
    if (!head || !HEADS.has(head.norm)) continue;
    // "Ana and Bob are…", "is and was" are not requests: the next word must start one, and so must the first part.
    const first = readHead(ws.slice(from, i));
    if (!first) continue;
    if (
      (head.norm === "is" || head.norm === "are" || head.norm === "does" || head.norm === "do" ||
        head.norm === "did") && !ws.at(-1)!.post.includes("?")
    ) continue;
    out.push({ ...span, words: ws.slice(from, i) });
    from = next;
  }
  out.push({ ...span, words: ws.slice(from) });
  return out;
}

/** Whether words start with a request (a command or a question), ignoring openers. */
export function readHead(ws: Word[]): boolean {
  const w = strip(ws).words;
  const first = w[0]?.norm ?? "";
  return REMEMBER.has(first) || FORGET.has(first) || WH.has(first) ||
    ["tell", "remind", "list", "show"].includes(first) ||
    (first === "do" && w[1]?.norm === "not") || first === "don't";
}

/**
 * Sets aside openers ("hi", "please", "can you", "I'd like you to") and closers ("please", "thanks").
 *
 * @example
 * ```ts
 * import { strip } from "./clauses.ts";
 * import { sentences } from "./parse.ts";
 * const [s] = sentences("Hey, could you please note that tea is at 4, thanks");
 * console.log(strip(s!.words).words.map((w) => w.norm).join(" ")); // note that tea is at 4
 * ```
 */
export function strip(
  words: Word[],
): { words: Word[]; greeted: boolean; asked: boolean; thanked: boolean; closed: boolean } {
  // Emoji, symbols and stray punctuation say nothing about the intent.
  const kept = (w: Word) => w.text === "" || (!is(w, "Emoji") && hasWordCharacter(w.text));
  // Most clauses have nothing to set aside: keep their array then.
  let ws = words.every(kept) ? words : words.filter(kept);
  let greeted = false;
  let asked = false;
  let thanked = false;
  for (let again = true; again && ws.length > 0;) {
    again = false;
    const [a, b] = [ws[0]?.norm, ws[1]?.norm];
    if (a && GREETINGS.has(a)) [ws, greeted, again] = [ws.slice(1), true, true];
    else if (a === "good" && b && ["morning", "afternoon", "evening", "day"].includes(b)) {
      [ws, greeted, again] = [ws.slice(2), true, true];
    } else if (a && FILLERS.has(a) && ws.length > 1) [ws, again] = [ws.slice(1), true];
    else if (a && ["can", "could", "would", "will"].includes(a) && b === "you" && ws.length > 2) {
      [ws, asked, again] = [ws.slice(2), true, true];
    } else if ((a === "i" || a === "i'd") && b && ["want", "need", "like", "would", "'d"].includes(b)) {
      const to = ws.findIndex((w, i) => i < 6 && w.norm === "to");
      if (to > 0 && ws[to - 1]?.norm === "you") [ws, again] = [ws.slice(to + 1), true];
    } else if (a === "thank" && b === "you" && ws.length > 2) {
      [ws, thanked, again] = [ws.slice(2), true, true];
    }
  }
  let closed = false;
  for (let again = true; again && ws.length > 1;) {
    again = false;
    const last = ws.at(-1)!.norm;
    if (last === "please" || last === "thanks" || last === "thx") {
      [ws, again, closed] = [ws.slice(0, -1), true, true];
    } else if (last === "you" && ws.at(-2)?.norm === "thank" && ws.length > 2) {
      [ws, again, closed] = [ws.slice(0, -2), true, true];
    }
  }
  return { words: ws, greeted, asked, thanked, closed };
}

/**
 * A fact in the user's words: quotes around it dropped, and an emoji after
 * it too ("… on Friday ✨"), unless the emoji is the value ("the mascot is 🦊").
 */
export function ownFact(span: Span, rest: Word[], asked: boolean, last: Word | undefined): string {
  let fact = tail(span, rest[0], asked ? ".!;,:?" : undefined, last);
  const start = rest[0] ? rest[0].start : 0;
  if (span.text[start - 1] === '"' && fact.endsWith('"')) fact = fact.slice(0, -1).trim();
  else if (/^"[^"]+"$/.test(fact)) fact = fact.slice(1, -1).trim();
  // Most facts end in a letter or a digit: then there is no emoji or stop to drop.
  const plain = /[\p{L}\p{N}]$/u.test(fact) ? fact : fact.replace(
    /(?:\s*[\p{Extended_Pictographic}\u200d\ufe0f]+)+$/u,
    "",
  ).replace(/[\s.!;,:]+$/, "");
  if (plain !== fact && plain !== "" && factIn(span.text, within(rest, start, plain.length))) fact = plain;
  return fact;
}

/** The text from a word to the end of the clause, without the `marks` (and spaces) that end it; the user's own characters. */
export function tail(span: Span, word: Word | undefined, marks = ".!;,:", last?: Word): string {
  if (!word) return "";
  const end = last ?? span.words.at(-1)!;
  const through = end.end + (/^[^\s.!?,;:]+/.exec(end.post)?.[0].length ?? 0);
  return withoutMarks(span.text.slice(word.start, through), marks).trim();
}

/** The words that lie inside `length` characters from `start`. */
export function within(words: Word[], start: number, length: number): Word[] {
  const end = start + length;
  // Words are in the order of the text, and most often all of them are inside: no copy then.
  if (words.length === 0 || (words[0]!.start >= start && words.at(-1)!.end <= end)) return words;
  return words.filter((w) => w.start >= start && w.end <= end);
}
