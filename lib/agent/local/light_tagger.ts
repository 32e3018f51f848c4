/**
 * A light tagger for the plain statements of a long message (a pasted page
 * of notes). compromise's full pipeline costs about 40 µs a word on this
 * machine, 15 ms for 2,000 characters; a statement needs much less of it:
 * where its verb is and what kind of words surround it. This tagger looks
 * each word up in compromise's own lexicon, tag set and switch list (the
 * words that may be a noun or a verb), takes verb roots from compromise's
 * conjugation model, and settles the few ambiguities a statement has from
 * its neighbours. It tags about 1 µs a word. Sentences that may ask
 * something (a question, a request word) still go through compromise.
 *
 * @module
 */

import nlp from "compromise/two";
import { ASK_AFTER_JOINER, ASK_OPENERS, JOINERS, SET_ASIDE } from "./lexicon.ts";
import { hasWordCharacter, type Sentence, type Word } from "./parse.ts";

// deno-lint-ignore no-explicit-any
const world = nlp.world() as any;
// Maps, not the objects compromise keeps: a word cut from the message is a new string, and looking it up
// as an object key costs V8 an internalization each time (about ten times a Map's lookup).
const LEXICON = new Map<string, string | string[]>(Object.entries(world.model.one.lexicon));
const SWITCHES = new Map<string, string>(Object.entries(world.model.two.switches));
const TAG_SET: Record<string, { parents?: string[] }> = world.model.one.tagSet;
const toInfinitive: (word: string, model: unknown, tense: string) => string =
  world.methods.two.transform.verb.toInfinitive;

const TAGS = new Map<string, ReadonlySet<string>>();
const NOUN = tagsOf("Noun");
const KNOWN = new Map<string | string[], ReadonlySet<string>>();

/** A tag with all its parents ("FemaleName" → Noun, Person, ProperNoun…), built once per tag list. */
function tagsOf(...names: string[]): ReadonlySet<string> {
  const key = names.join(",");
  let set = TAGS.get(key);
  if (!set) {
    const all = new Set<string>();
    for (const name of names) {
      all.add(name);
      for (const parent of TAG_SET[name]?.parents ?? []) all.add(parent);
    }
    TAGS.set(key, set = all);
  }
  return set;
}

const LEADING = new Set(['"', "'", "(", "[", "{"]);
const TRAILING = new Set([".", ",", ";", ":", "!", "?", '"', "'", ")", "]", "}", "…"]);

/** Whether a character code is white space (as `\s` matches). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160 ||
    (c > 255 && (c === 5760 || (c >= 8192 && c <= 8202) || c === 8232 || c === 8233 || c === 8239 ||
      c === 8287 || c === 12288 || c === 65279));
}

/** Whether a word starts with a capital letter. */
function capitalized(text: string): boolean {
  const c = text[0];
  return c !== undefined && c !== c.toLowerCase();
}

const PICTOGRAPH = /^[\p{Extended_Pictographic}\u200d\ufe0f]+$/u;
const NOT = new Map([["can't", "can"], ["won't", "will"], ["ain't", "is"], ["shan't", "shall"]]);
const SHORT = new Map([["'re", "are"], ["'m", "am"], ["'ll", "will"], ["'ve", "have"], ["'d", "would"]]);
const IS_AFTER = new Set(["it", "that", "there", "here", "what", "who", "where", "when", "how", "he", "she"]);
/** Words that make the word after them a verb: "we lead", "will move". */
// deno-fmt-ignore
const BEFORE_VERB = new Set(["i", "we", "you", "they", "to", "will", "would", "can", "should", "must", "not"]);

/** Openers that may ask something only in a short sentence ("the memories", "a summary"). */
const SHORT_OPENERS = new Set(["a", "the", "my", "your", "all"]);
const spoken = (w: Word) => w.text === "" || hasWordCharacter(w.text);

/**
 * Whether a sentence may ask something, so compromise should read it: a
 * question mark, a first word that may open a request, a question or a
 * correction, or such a word after "and", "then" or "also" ("… and tell me
 * when"). "The", "a" and "my" count as openers only for a short sentence
 * ("the memories", "a summary of the project").
 *
 * @example
 * ```ts
 * import { lightSentence, mayAsk } from "./light_tagger.ts";
 * const text = "Ana leads design. Bob runs QA and tell me why";
 * console.log(mayAsk(text, lightSentence(text, 0, 18)!), mayAsk(text, lightSentence(text, 18, text.length)!)); // false true
 * ```
 */
export function mayAsk(text: string, sentence: Sentence): boolean {
  if (text.slice(sentence.start, sentence.end + 2).includes("?")) return true;
  // The words, without lone marks and emoji (most sentences have none: then no copy).
  const all = sentence.words;
  const words = all.every(spoken) ? all : all.filter(spoken);
  const first = words[0]?.norm;
  if (first === undefined) return true;
  if (ASK_OPENERS.has(first) && (words.length <= 5 || !SHORT_OPENERS.has(first))) return true;
  for (let i = 1; i < words.length - 1; i++) {
    if (JOINERS.has(words[i]!.norm) && ASK_AFTER_JOINER.has(words[i + 1]!.norm)) return true;
  }
  return false;
}

/**
 * Tags one sentence of `text` (from `start` to `end`) as the reader needs it.
 *
 * @example
 * ```ts
 * import { lightSentence } from "./light_tagger.ts";
 * const text = "Ana leads the design team.";
 * const s = lightSentence(text, 0, text.length);
 * console.log(s?.words.map((w) => w.root)); // ["ana", "lead", "the", "design", "team"]
 * ```
 */
export function lightSentence(text: string, start: number, end: number): Sentence | null {
  const words: Word[] = [];
  // Each written word with the marks before and after it ('"tea', 'May 3.'), and the space that follows.
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  while (i < end) {
    let j = i;
    while (j < end && !isSpace(text.charCodeAt(j))) j++;
    let a = i;
    while (a < j && LEADING.has(text[a]!)) a++;
    let b = j;
    while (b > a && TRAILING.has(text[b - 1]!)) b--;
    let k = j;
    while (k < end && isSpace(text.charCodeAt(k))) k++;
    const post = text.slice(b, k);
    if (a === b) {
      // A lone mark ("–", "&"): keep it as a word so the text between words stays whole.
      const raw = text.slice(i, j);
      words.push(word(raw, raw, i, text.slice(j, k), NOUN));
    } else split(words, text.slice(a, b), a, post);
    i = k;
  }
  if (words.length === 0) return null;
  let verbs = 0;
  for (let i = 0; i < words.length; i++) {
    settle(words, i, verbs > 0);
    if (words[i]!.tags.has("Verb") && !words[i]!.tags.has("Gerund")) verbs++;
  }
  return { words, start: words[0]!.start, end: words.at(-1)!.end, statement: false };
}

function word(text: string, norm: string, start: number, post: string, tags: ReadonlySet<string>): Word {
  return { text, norm, root: norm, tags, start, end: start + text.length, post };
}

/** Adds a written word as one or two words: "isn't" is "is" and an empty "not", as compromise has it. */
function split(out: Word[], core: string, at: number, post: string): void {
  const lower = core.toLowerCase();
  if (!lower.includes("'")) {
    out.push(lookup(core, lower, at, post));
    return;
  }
  const not = /^(\p{L}+)n't$/u.exec(lower);
  if (not) {
    const first = NOT.get(lower) ?? not[1]!;
    out.push(lookup(core, first, at, ""), word("", "not", at + core.length, post, NEGATIVE));
    return;
  }
  const short = /^(\p{L}+)('re|'m|'ll|'ve|'d|'s)$/u.exec(lower);
  if (short && (short[2] !== "'s" || IS_AFTER.has(short[1]!))) {
    const second = SHORT.get(short[2]!) ?? "is";
    out.push(lookup(core, short[1]!, at, ""), lookup("", second, at + core.length, post));
    return;
  }
  out.push(lookup(core, lower, at, post));
}

// The tags of words the lexicon does not know, built once.
const EMOJI = tagsOf("Emoji");
const MONEY = tagsOf("Money", "Cardinal", "Value");
const PERCENT = tagsOf("Percent", "Cardinal", "Value");
const TIME = tagsOf("Time");
const YEAR = tagsOf("Year", "Value");
const NUMBER = tagsOf("Cardinal", "Value");
const PROPER = tagsOf("ProperNoun", "Singular");
const GERUND = tagsOf("Gerund");
const PAST = tagsOf("PastTense");
const ADVERB = tagsOf("Adverb");
const PLURAL = tagsOf("Plural");
const SINGULAR = tagsOf("Singular");
const NEGATIVE = tagsOf("Negative");
// The tags a word that may be a noun or a verb is settled to.
const FIRST_NAME = tagsOf("FirstName");
const PRESENT = tagsOf("PresentTense");
const INFINITIVE = tagsOf("Infinitive");

/** A word's tags from the lexicon, or from its shape when the lexicon does not know it. */
function lookup(text: string, norm: string, start: number, post: string): Word {
  const known = LEXICON.get(norm);
  if (known !== undefined) {
    let tags = KNOWN.get(known);
    if (!tags) KNOWN.set(known, tags = tagsOf(...[known].flat()));
    return word(text, norm, start, post, tags);
  }
  return word(text, norm, start, post, shape(text, norm));
}

/** The tags of an unknown word, from its first character and its ending. */
function shape(text: string, norm: string): ReadonlySet<string> {
  const c = text.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    if (/^\d[\d,.]*%$/.test(text)) return PERCENT;
    if (/^\d{1,2}(?::\d{2})?(?:am|pm)$/i.test(text) || /^\d{1,2}:\d{2}$/.test(text)) return TIME;
    if (/^(?:19|20)\d\d$/.test(text)) return YEAR;
    return NUMBER;
  }
  if ("$€£¥".includes(text[0]!) && /^.\d/.test(text)) return MONEY;
  if (c > 0x2000 && PICTOGRAPH.test(text)) return EMOJI;
  if (capitalized(text)) return PROPER;
  if (norm.length > 5 && norm.endsWith("ing")) return GERUND;
  if (norm.length > 4 && norm.endsWith("ed")) return PAST;
  if (norm.length > 4 && norm.endsWith("ly")) return ADVERB;
  if (norm.length > 3 && norm.endsWith("s") && !norm.endsWith("ss") && !norm.endsWith("'s")) return PLURAL;
  return SINGULAR;
}

const PROPER_TOO = new Map<ReadonlySet<string>, ReadonlySet<string>>();

/** A noun's tags with ProperNoun added (one set per tag set, so no word makes its own). */
function proper(tags: ReadonlySet<string>): ReadonlySet<string> {
  let set = PROPER_TOO.get(tags);
  if (!set) PROPER_TOO.set(tags, set = new Set([...tags, "ProperNoun"]));
  return set;
}

/** Settles a word that may be a noun or a verb, and gives verbs their root. */
function settle(words: Word[], i: number, verbSoFar: boolean): void {
  const w = words[i]!;
  const sw = SWITCHES.get(w.norm) ?? (w.tags === PLURAL ? "Plural|Verb" : undefined);
  if (sw === undefined) {
    // Most words are settled by the lexicon alone ("the", "is", "on", "team").
    // The capital first: it is one character, and most words have none.
    if (
      i > 0 && capitalized(w.text) && w.tags.has("Noun") && !w.tags.has("ProperNoun") && !w.tags.has("Date")
    ) {
      w.tags = proper(w.tags);
    }
    w.root = rootOf(w);
    return;
  }
  // "Ana now leads": the word before, past any adverb.
  let p = i - 1;
  while (p > 0 && (words[p]!.tags.has("Adverb") || SET_ASIDE.has(words[p]!.norm))) p--;
  const prev = words[p];
  const next = words[i + 1];
  if (sw.startsWith("Person|") && sw !== "Person|Date" && capitalized(w.text) && !w.tags.has("Date")) {
    w.tags = FIRST_NAME; // "Frank handles billing"
  }
  const nominal = prev !== undefined && (prev.tags.has("Noun") || prev.tags.has("Value")) &&
    !prev.tags.has("Possessive");
  const nextIsVerb = next !== undefined && next.tags.has("Verb") && !next.tags.has("Gerund") &&
    !SWITCHES.has(next.norm);
  if (sw === "Plural|Verb" && /s$/.test(w.norm)) {
    // "Ana leads the team": after the subject and before an object, an -s word is the verb.
    const verb = i > 0 && nominal && !verbSoFar && !nextIsVerb;
    w.tags = verb ? PRESENT : PLURAL;
  } else if (sw === "Noun|Verb" || sw === "Actor|Verb" || sw === "Person|Verb") {
    const verb = i > 0 && !verbSoFar && prev !== undefined && BEFORE_VERB.has(prev.norm) && !nextIsVerb;
    if (verb) w.tags = INFINITIVE;
    else if (w.tags.has("Verb")) w.tags = sw === "Person|Verb" ? FIRST_NAME : SINGULAR;
  } else if (sw === "Adj|Past" && prev?.tags.has("Copula") && next?.norm === "by") {
    w.tags = PAST; // "is watched by Jonas"
  }
  if (i > 0 && capitalized(w.text) && w.tags.has("Noun") && !w.tags.has("Date")) {
    if (!w.tags.has("ProperNoun")) w.tags = proper(w.tags);
  }
  w.root = rootOf(w);
}

/** Verb roots met so far, one map per tense (a word's root depends on the tense it was read in). */
const ROOTS: [string, Map<string, string>][] = ["PastTense", "Gerund", "PresentTense"].map((tense) => [
  tense,
  new Map<string, string>(),
]);

/** A verb's dictionary form ("leads" → "lead"), from compromise's conjugation model; remembered. */
function rootOf(w: Word): string {
  if (!w.tags.has("Verb") || w.tags.has("Copula") || w.tags.has("Infinitive")) return w.norm;
  for (let i = 0; i < ROOTS.length; i++) {
    const tense = ROOTS[i]![0];
    const roots = ROOTS[i]![1];
    if (!w.tags.has(tense)) continue;
    let root = roots.get(w.norm);
    if (root === undefined) {
      if (roots.size >= 5000) roots.clear();
      roots.set(w.norm, root = toInfinitive(w.norm, world.model, tense) || w.norm);
    }
    return root;
  }
  return w.norm;
}
