/**
 * The local engine's view of a text: words tagged by `compromise` (part of
 * speech, dates, names, negation), each with its place in the text, so what
 * the engine keeps is always the user's own characters.
 *
 * @module
 */

import nlp from "compromise/two";

/** One word of a text, as compromise tagged it. */
export interface Word {
  /** The word as written (without the punctuation around it). */
  text: string;
  /** Lower case, plain quotes, contractions expanded ("don't" is "do" then "not"). */
  norm: string;
  /** The dictionary form of a verb ("leads" → "lead"), else `norm`. */
  root: string;
  tags: ReadonlySet<string>;
  /** Where the word starts and ends in the text. */
  start: number;
  end: number;
  /** The punctuation right after it (",", "?", ": "). */
  post: string;
}

/** A sentence: its words and its span in the text. */
export interface Sentence {
  words: Word[];
  start: number;
  end: number;
}

/** Typographic apostrophes and quotes, which phones type, as ASCII ones (one character for one). */
export function plainQuotes(text: string): string {
  return text.replace(/[\u2018\u2019\u02BC]/g, "'").replace(/[\u201C\u201D]/g, '"');
}

/**
 * Splits a text into sentences of tagged words.
 *
 * @example
 * ```ts
 * import { sentences } from "./parse.ts";
 * const [first] = sentences("Ana leads design. Bob is the PM.");
 * console.log(first?.words.map((w) => w.root)); // ["ana", "lead", "design"]
 * ```
 */
export function sentences(text: string): Sentence[] {
  const plain = plainQuotes(text);
  // The lexicon and the word-level tagger only: six times cheaper than compromise's full
  // pass, and the context rules it skips (dates, mostly) are covered below and by chrono-node.
  const doc = nlp.tokenize(plain);
  doc.compute(["alias", "normal", "machine", "lexicon", "preTagger", "root"]);
  const out: Sentence[] = [];
  let cursor = 0;
  // deno-lint-ignore no-explicit-any
  for (const terms of doc.docs as any[][]) {
    const words: Word[] = [];
    for (const t of terms) {
      const written = String(t.text ?? "");
      // An expanded contraction ("don't" → "do" + "not") has an empty second half.
      const at = written === "" ? cursor : plain.indexOf(written, cursor);
      const start = at < 0 ? cursor : at;
      const end = start + written.length;
      cursor = end;
      const norm = String(t.implicit ?? t.machine ?? t.normal ?? written.toLowerCase());
      words.push({
        text: written,
        norm,
        root: String(t.root ?? norm),
        tags: t.tags as Set<string>,
        start,
        end,
        post: String(t.post ?? ""),
      });
    }
    fixMonths(words);
    if (words.length > 0) out.push({ words, start: words[0]!.start, end: words.at(-1)!.end });
  }
  return out;
}

/** Whether a word carries a tag. */
export function is(word: Word | undefined, tag: string): boolean {
  return word !== undefined && word.tags.has(tag);
}

const MONTHS = new Set(["may", "march", "june", "august"]);

/** "May 10", "in March": a month, not a verb, when a number or a preposition is next to it. */
function fixMonths(words: Word[]): void {
  for (const [i, w] of words.entries()) {
    if (!MONTHS.has(w.norm) || !/^\p{Lu}/u.test(w.text)) continue;
    const next = words[i + 1];
    const prev = words[i - 1];
    if (
      (next && /^\d/.test(next.text)) ||
      (prev && ["on", "in", "by", "until", "till", "before", "after", "from"].includes(prev.norm))
    ) {
      w.tags = new Set(["Noun", "Date", "Month"]);
    }
  }
}
