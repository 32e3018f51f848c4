/**
 * The local engine's view of a text: words tagged by `compromise` (part of
 * speech, dates, names, negation), each with its place in the text, so what
 * the engine keeps is always the user's own characters.
 *
 * @module
 */

import nlp from "compromise/two";
import { lightSentence, mayAsk } from "./light_tagger.ts";

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
  /** Whether the light tagger found it a plain statement of a long message: it asks nothing. */
  statement: boolean;
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
  if (plain.length <= LONG_TEXT) return tagged(plain, 0, plain.length);
  // A long message (a pasted page of notes) is split by the platform's sentence segmenter; compromise
  // reads the sentences that may ask something, the light tagger the plain statements (see light_tagger.ts).
  const out: Sentence[] = [];
  for (const { segment, index } of SEGMENTER.segment(plain)) {
    if (segment.trim() === "") continue;
    const s = lightSentence(plain, index, index + segment.length);
    if (!s) continue;
    if (segment.includes("?") || mayAsk(plain, s)) out.push(...tagged(plain, index, index + segment.length));
    else {
      s.statement = true;
      out.push(fixMonths(s));
    }
  }
  return out;
}

/** Past this many characters, a message's plain statements are read by the light tagger. */
export const LONG_TEXT = 300;
const SEGMENTER = new Intl.Segmenter("en", { granularity: "sentence" });

/** compromise's sentences of `text` from `from` to `to`, with places in the whole text. */
function tagged(plain: string, from: number, to: number): Sentence[] {
  const part = from === 0 && to === plain.length ? plain : plain.slice(from, to);
  // The lexicon and the word-level tagger only: six times cheaper than compromise's full
  // pass, and the context rules it skips (dates, mostly) are covered below and by chrono-node.
  const doc = nlp.tokenize(part);
  doc.compute(["alias", "normal", "machine", "lexicon", "preTagger", "root"]);
  const out: Sentence[] = [];
  let cursor = 0;
  // deno-lint-ignore no-explicit-any
  for (const terms of doc.docs as any[][]) {
    const words: Word[] = [];
    for (const t of terms) {
      const written = String(t.text ?? "");
      // An expanded contraction ("don't" → "do" + "not") has an empty second half.
      const at = written === "" ? cursor : part.indexOf(written, cursor);
      const start = at < 0 ? cursor : at;
      const end = start + written.length;
      cursor = end;
      const norm = String(t.implicit ?? t.machine ?? t.normal ?? written.toLowerCase());
      words.push({
        text: written,
        norm,
        root: String(t.root ?? norm),
        tags: t.tags as Set<string>,
        start: start + from,
        end: end + from,
        post: String(t.post ?? ""),
      });
    }
    if (words.length > 0) {
      out.push(fixMonths({ words, start: words[0]!.start, end: words.at(-1)!.end, statement: false }));
    }
  }
  return out;
}

/**
 * Whether a word has a letter or a digit (most start with one: that is checked first, without a regex).
 *
 * @example
 * ```ts
 * import { hasWordCharacter } from "./parse.ts";
 * console.log(hasWordCharacter("Ana"), hasWordCharacter("🦊"), hasWordCharacter("—"), hasWordCharacter("été")); // true false false true
 * ```
 */
export function hasWordCharacter(text: string): boolean {
  const c = text.charCodeAt(0);
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || /[\p{L}\p{N}]/u.test(text);
}

/**
 * A text without the white space and the `marks` at its end, as a regex
 * `[\s<marks>]+$` would cut it, without scanning the text from its start.
 *
 * @example
 * ```ts
 * import { withoutMarks } from "./parse.ts";
 * console.log(withoutMarks("on May 3. ", ".!"), withoutMarks("Why?", ".")); // on May 3 Why?
 * ```
 */
export function withoutMarks(text: string, marks: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    const space = c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(text[end - 1]!));
    if (!space && !marks.includes(text[end - 1]!)) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

/** Whether a word carries a tag. */
export function is(word: Word | undefined, tag: string): boolean {
  return word !== undefined && word.tags.has(tag);
}

const MONTHS = new Set(["may", "march", "june", "august"]);
const MONTH: ReadonlySet<string> = new Set(["Noun", "Date", "Month"]);

/** "May 10", "in March": a month, not a verb, when a number or a preposition is next to it. */
function fixMonths(sentence: Sentence): Sentence {
  const words = sentence.words;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!MONTHS.has(w.norm) || !/^\p{Lu}/u.test(w.text)) continue;
    const next = words[i + 1];
    const prev = words[i - 1];
    if (
      (next && /^\d/.test(next.text)) ||
      (prev && ["on", "in", "by", "until", "till", "before", "after", "from"].includes(prev.norm))
    ) {
      w.tags = MONTH;
    }
  }
  return sentence;
}
