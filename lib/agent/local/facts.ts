/**
 * Facts with a subject: "The launch moved to May 10" is about the launch
 * (subject key `launch`), says when (kind `when`), and its value is "May 10".
 * Two facts with the same subject key and kind are about the same thing, so
 * the newer one replaces the older. The parse finds subject, verb and value
 * from the words' tags; what kind of value it is comes from `values.ts`.
 *
 * @module
 */

import { subjectKey } from "../words.ts";
import { is, type Sentence, sentences, withoutMarks, type Word } from "./parse.ts";
import { type Kind, kindOf } from "./values.ts";

/** A fact read from a sentence. */
export interface Fact {
  /** The whole fact as written, without a final stop. */
  text: string;
  /** The subject as written: "the launch". */
  subject: string;
  /** The subject as a key: stemmed, without vague words ("the launch date" → "launch"). */
  key: string;
  kind: Kind;
  /** The value as written, with its preposition: "on May 3". */
  value: string;
  /** The value without its preposition: "May 3". */
  bare: string;
  /** The preposition before the value ("on", "at", "in"), or "". */
  prep: string;
  /** The verb's dictionary form: "be", "lead", "move". */
  verb: string;
  /** Whether the sentence says it changed: "moved to", "is now", "actually", "no longer". */
  changed: boolean;
  /** The words that say it changed, as written ("moved to", "now", "Actually"), or "". */
  marker: string;
  negated: boolean;
}

/** Verbs that say a thing changed to a new value ("moved to May 10"). */
const CHANGE = new Set([
  "move",
  "change",
  "shift",
  "push",
  "postpone",
  "reschedule",
  "switch",
  "update",
  "bump",
  "delay",
  "become",
  "drop",
  "rise",
  "raise",
  "increase",
  "decrease",
  "fall",
  "reduce",
  "relocate",
]);
/** Words before a fact that mark it as a correction. */
const CORRECTION = new Set([
  "actually",
  "correction",
  "update",
  "now",
  "oh",
  "wait",
  "sorry",
  "no",
  "btw",
  "fyi",
]);
const PREPS = new Set([
  "on",
  "at",
  "in",
  "by",
  "for",
  "until",
  "till",
  "from",
  "to",
  "around",
  "before",
  "after",
]);

/** Whether a word is a verb that can head a fact (not "to", not a modal alone). */
function verbAt(words: Word[], i: number): boolean {
  const w = words[i]!;
  return is(w, "Verb") && !is(w, "QuestionWord") && !is(w, "Gerund");
}

/**
 * Reads the fact a sentence states, or null when it states none (a
 * question, a command, a fragment).
 *
 * @example
 * ```ts
 * import { readFact } from "./facts.ts";
 * const fact = readFact("The launch moved to May 10");
 * console.log(fact?.key, fact?.kind, fact?.bare, fact?.changed); // launch when May 10 true
 * ```
 */
export function readFact(text: string, sentence?: Sentence): Fact | null {
  if (sentence) return factOf(text, sentence);
  // The same text is read more than once per message (the reader, then the answer): parse it once.
  const known = cache.get(text);
  if (known !== undefined) return known;
  const s = sentences(text)[0];
  const fact = s ? factOf(text, s) : null;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, fact);
  return fact;
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, Fact | null>();

/**
 * A fact from words already tagged (part of a longer message): the text is
 * the message, the sentence the words of the fact, so nothing is parsed twice.
 *
 * @example
 * ```ts
 * import { factIn } from "./facts.ts";
 * import { sentences } from "./parse.ts";
 * const text = "Hi. Ana leads design.";
 * console.log(factIn(text, sentences(text)[1]!.words)?.subject); // Ana
 * ```
 */
export function factIn(text: string, words: Word[]): Fact | null {
  if (words.length === 0) return null;
  return factOf(text, { words, start: words[0]!.start, end: words.at(-1)!.end, statement: false });
}

/**
 * The facts of words that may join several with "and": "the launch is on May 3
 * and Ana leads design" is two facts (each side has its own subject and verb),
 * so that a later change to one leaves the other alone. "Tom and Ana lead
 * design" and "Ana leads design and marketing" stay one.
 *
 * @example
 * ```ts
 * import { factsIn } from "./facts.ts";
 * import { sentences } from "./parse.ts";
 * const text = "The launch is on May 3 and Ana leads design";
 * console.log(factsIn(text, sentences(text)[0]!.words).map((f) => f.subject)); // [ "The launch", "Ana" ]
 * ```
 */
export function factsIn(text: string, words: Word[]): Fact[] {
  for (let i = 2; i < words.length - 2; i++) {
    if (words[i]!.norm !== "and") continue;
    const first = factIn(text, words.slice(0, i));
    const rest = first && factsIn(text, words.slice(i + 1));
    if (first && rest && rest.length > 0) return [first, ...rest];
  }
  const whole = factIn(text, words);
  return whole ? [whole] : [];
}

/** Words between a subject and its verb that are not part of the subject ("Ana now leads…"). */
const aside = (w: Word) => w.norm === "now" || w.norm === "actually" || w.norm === "currently";

function factOf(text: string, s: Sentence): Fact | null {
  let words = s.words;
  let changed = false;
  let marker = "";
  while (words.length > 2 && CORRECTION.has(words[0]!.norm) && !is(words[1], "Verb")) {
    changed = true;
    marker ||= words[0]!.text;
    words = words.slice(1);
  }
  const v = words.findIndex((_, i) => i > 0 && verbAt(words, i));
  if (v < 1) return null;
  // "Ana now leads marketing": "now" says it changed; it is not part of the subject.
  const span = (ws: Word[]) => text.slice(ws[0]!.start, ws.at(-1)!.end);
  let subjectWords = words.slice(0, v);
  if (subjectWords.some(aside)) {
    subjectWords = subjectWords.filter((w) => {
      if (aside(w) && w.norm !== "currently") {
        changed = true;
        marker ||= w.text;
      }
      return !aside(w);
    });
  }
  if (!subjectWords.some((w) => is(w, "Noun") || is(w, "Value") || is(w, "Emoji"))) return null;
  if (subjectWords.some((w) => is(w, "QuestionWord"))) return null;
  // The main verb is the last of a run: "has been moved", "will be", "is set".
  let last = v;
  while (last + 1 < words.length && verbAt(words, last + 1)) last++;
  const verbs = words.slice(v, last + 1);
  const head = verbs.at(-1)!;
  let rest = words.slice(last + 1);
  let negated = verbs.some((w) => is(w, "Negative"));
  while (
    rest[0] && ["now", "no", "not", "longer", "still", "currently", "officially"].includes(rest[0].norm)
  ) {
    if (rest[0].norm === "now") {
      changed = true;
      marker ||= rest[0].text;
    }
    if (rest[0].norm === "no" || rest[0].norm === "not") negated = true;
    rest = rest.slice(1);
  }
  if (rest.some((w) => w.norm === "now") && rest.at(-1)?.norm === "now") {
    changed = true;
    marker ||= rest.at(-1)!.text;
    rest = rest.slice(0, -1);
  }
  const copula = verbs.some((w) => is(w, "Copula")) && !CHANGE.has(head.root);
  const verb = copula ? "be" : head.root;
  if (CHANGE.has(verb)) {
    // "moved from Berlin to Lisbon": a change names its new value after "to".
    const to = rest.findIndex((w) => w.norm === "to" || w.norm === "until" || w.norm === "till");
    if (to >= 0) {
      changed = true;
      marker = `${head.text} ${rest[to]!.text}`;
      // "We moved the launch to May 10": what moved is the object, not "we".
      const object = rest.slice(0, to);
      const from = object.findIndex((w) => w.norm === "from");
      const moved = from >= 0 ? object.slice(0, from) : object;
      if (moved.length > 0 && !subjectKey(span(subjectWords))) subjectWords = moved;
      rest = rest.slice(to + 1);
    }
  }
  if (rest.length === 0) return null;
  const value = span(rest);
  const prep = PREPS.has(rest[0]!.norm) && rest.length > 1 ? rest[0]!.norm : "";
  const bare = prep ? span(rest.slice(1)) : value;
  const subject = span(subjectWords);
  const key = subjectKey(subject);
  if (!key) return null;
  return {
    text: withoutMarks(text.slice(s.start, s.end), ".!;,:").trim(),
    subject,
    key,
    kind: kindOf(verb, copula || CHANGE.has(verb), prep, rest, bare),
    value,
    bare,
    prep,
    verb: CHANGE.has(verb) ? "be" : verb,
    changed,
    marker,
    negated,
  };
}

/**
 * A statement the parse could not split into subject and value: kept as
 * written, about nothing in particular, so it never replaces anything.
 *
 * @example
 * ```ts
 * import { plainFact } from "./facts.ts";
 * console.log(plainFact("The code freeze starts on April 25").key === ""); // true
 * ```
 */
export function plainFact(text: string): Fact {
  return {
    text,
    subject: "",
    key: "",
    kind: "what",
    value: text,
    bare: text,
    prep: "",
    verb: "",
    changed: false,
    marker: "",
    negated: false,
  };
}
