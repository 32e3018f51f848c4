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
import type { Sentence, Word } from "./parse.ts";

// deno-lint-ignore no-explicit-any
const world = nlp.world() as any;
const LEXICON: Record<string, string | string[]> = world.model.one.lexicon;
const SWITCHES: Record<string, string> = world.model.two.switches;
const TAG_SET: Record<string, { parents?: string[] }> = world.model.one.tagSet;
const toInfinitive: (word: string, model: unknown, tense: string) => string =
  world.methods.two.transform.verb.toInfinitive;

const TAGS = new Map<string, ReadonlySet<string>>();
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

const PICTOGRAPH = /^[\p{Extended_Pictographic}\u200d\ufe0f]+$/u;
const NOT = new Map([["can't", "can"], ["won't", "will"], ["ain't", "is"], ["shan't", "shall"]]);
const SHORT = new Map([["'re", "are"], ["'m", "am"], ["'ll", "will"], ["'ve", "have"], ["'d", "would"]]);
const IS_AFTER = new Set(["it", "that", "there", "here", "what", "who", "where", "when", "how", "he", "she"]);
/** Words that make the word after them a verb: "we lead", "will move". */
const BEFORE_VERB = new Set([
  "i",
  "we",
  "you",
  "they",
  "to",
  "will",
  "would",
  "can",
  "should",
  "must",
  "not",
]);

/** Words that may start a request, after an opener or after "and" / "then" / "also". */
// deno-fmt-ignore
const HEADS = new Set([
  "remember", "memorize", "memorise", "note", "save", "store", "record", "jot", "write", "keep", "add",
  "forget", "delete", "remove", "drop", "erase", "discard", "unlearn", "clear", "tell", "remind", "list",
  "show", "summarize", "summarise", "recap", "sum", "give", "catch", "bring", "help", "make", "take", "never",
  "don't", "do", "does", "did", "is", "are", "was", "were", "has", "have", "will", "should", "can", "could",
  "would", "am", "what", "when", "who", "where", "which", "whose", "why", "how", "whom", "i", "i'd",
  "summary", "overview", "rundown", "status", "memories", "memory", "project", "please", "pls", "thanks",
  "thank", "thx", "ty", "hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "good", "morning",
  "evening", "ok", "okay", "so", "well", "alright", "now", "also", "and", "then", "plus", "lantern", "kindly",
  "just", "oh", "btw", "hmm", "right", "cool", "great", "yes", "yeah", "yep", "sure", "there", "got", "much",
  "cheers", "appreciated", "perfect", "awesome", "nice", "anything", "something", "actually", "correction",
  "update", "wait", "sorry", "no", "fyi", "sup", "a", "the", "my", "your", "all", "everything",
]);
/** Words between a subject and its verb that say when or how sure ("Ana now leads…"). */
const SET_ASIDE = new Set(["now", "actually", "currently", "also", "still", "just", "already", "only"]);
const JOINERS = new Set(["and", "then", "also"]);
/** Words that start a second request after a joiner (clauses.ts splits there). */
// deno-fmt-ignore
const AFTER_JOINER = new Set([
  "remember", "memorize", "memorise", "note", "save", "store", "record", "jot", "write", "keep", "add",
  "forget", "delete", "remove", "drop", "erase", "discard", "unlearn", "clear", "tell", "remind", "list",
  "show", "summarize", "summarise", "give", "don't", "please", "what", "when", "who", "where", "which",
  "whose", "why", "how", "whom",
]);

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
  const words = sentence.words.filter((w) => w.text === "" || /[\p{L}\p{N}]/u.test(w.text));
  const first = words[0]?.norm;
  if (first === undefined) return true;
  if (HEADS.has(first) && (words.length <= 5 || !["a", "the", "my", "your", "all"].includes(first))) {
    return true;
  }
  for (let i = 1; i < words.length - 1; i++) {
    if (JOINERS.has(words[i]!.norm) && AFTER_JOINER.has(words[i + 1]!.norm)) return true;
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
  // A written word with the marks before and after it, and the space that follows.
  const token = /(["'([{]*)(\S*?)([.,;:!?"')\]}…]*)(\s+|$)/y;
  token.lastIndex = start + /^\s*/.exec(text.slice(start, end))![0].length;
  for (let m = token.exec(text); m && m.index < end && m[0] !== ""; m = token.exec(text)) {
    const [, before, core, after, space] = m as unknown as [string, string, string, string, string];
    const raw = before + core + after;
    const lead = before.length;
    const at = m.index + lead;
    const post = after + space;
    if (core === "") {
      // A lone mark ("–", "&"): keep it as a word so the text between words stays whole.
      words.push(word(raw, raw, at - lead, post, tagsOf("Noun")));
      continue;
    }
    words.push(...split(core, at, post));
  }
  if (words.length === 0) return null;
  let verbs = 0;
  for (let i = 0; i < words.length; i++) {
    settle(words, i, verbs > 0);
    if (words[i]!.tags.has("Verb") && !words[i]!.tags.has("Gerund")) verbs++;
  }
  return { words, start: words[0]!.start, end: words.at(-1)!.end };
}

function word(text: string, norm: string, start: number, post: string, tags: ReadonlySet<string>): Word {
  return { text, norm, root: norm, tags, start, end: start + text.length, post };
}

/** A written word as one or two words: "isn't" is "is" and an empty "not", as compromise has it. */
function split(core: string, at: number, post: string): Word[] {
  const lower = core.toLowerCase();
  if (!lower.includes("'")) return [lookup(core, lower, at, post)];
  const not = /^(\p{L}+)n't$/u.exec(lower);
  if (not) {
    const first = NOT.get(lower) ?? not[1]!;
    return [lookup(core, first, at, ""), word("", "not", at + core.length, post, tagsOf("Negative"))];
  }
  const short = /^(\p{L}+)('re|'m|'ll|'ve|'d|'s)$/u.exec(lower);
  if (short && (short[2] !== "'s" || IS_AFTER.has(short[1]!))) {
    const second = SHORT.get(short[2]!) ?? "is";
    return [lookup(core, short[1]!, at, ""), lookup("", second, at + core.length, post)];
  }
  return [lookup(core, lower, at, post)];
}

/** A word's tags from the lexicon, or from its shape when the lexicon does not know it. */
function lookup(text: string, norm: string, start: number, post: string): Word {
  const known = LEXICON[norm];
  if (known !== undefined) {
    let tags = KNOWN.get(known);
    if (!tags) KNOWN.set(known, tags = tagsOf(...[known].flat()));
    return word(text, norm, start, post, tags);
  }
  let tags: ReadonlySet<string>;
  if (PICTOGRAPH.test(text)) tags = tagsOf("Emoji");
  else if (/^[$€£¥]\d/.test(text)) tags = tagsOf("Money", "Cardinal", "Value");
  else if (/^\d[\d,.]*%$/.test(text)) tags = tagsOf("Percent", "Cardinal", "Value");
  else if (/^\d{1,2}:\d{2}(?:am|pm)?$/i.test(text) || /^\d{1,2}(?:am|pm)$/i.test(text)) tags = tagsOf("Time");
  else if (/^(?:19|20)\d\d$/.test(text)) tags = tagsOf("Year", "Value");
  else if (/^\d/.test(text)) tags = tagsOf("Cardinal", "Value");
  else if (/^\p{Lu}/u.test(text)) tags = tagsOf("ProperNoun", "Singular");
  else if (/\p{L}{3}ing$/u.test(norm)) tags = tagsOf("Gerund");
  else if (/\p{L}{3}ed$/u.test(norm)) tags = tagsOf("PastTense");
  else if (/\p{L}{3}ly$/u.test(norm)) tags = tagsOf("Adverb");
  else if (/\p{L}{2}[^s's]s$/u.test(norm)) tags = tagsOf("Plural");
  else tags = tagsOf("Singular");
  return word(text, norm, start, post, tags);
}

/** Settles a word that may be a noun or a verb, and gives verbs their root. */
function settle(words: Word[], i: number, verbSoFar: boolean): void {
  const w = words[i]!;
  // "Ana now leads": the word before, past any adverb.
  let p = i - 1;
  while (p > 0 && (words[p]!.tags.has("Adverb") || SET_ASIDE.has(words[p]!.norm))) p--;
  const prev = words[p];
  const next = words[i + 1];
  const sw = SWITCHES[w.norm] ?? (!LEXICON[w.norm] && w.tags.has("Plural") ? "Plural|Verb" : undefined);
  if (sw?.startsWith("Person|") && sw !== "Person|Date" && /^\p{Lu}/u.test(w.text) && !w.tags.has("Date")) {
    w.tags = tagsOf("FirstName"); // "Frank handles billing"
  }
  const nominal = prev !== undefined && (prev.tags.has("Noun") || prev.tags.has("Value")) &&
    !prev.tags.has("Possessive");
  const nextIsVerb = next !== undefined && next.tags.has("Verb") && !next.tags.has("Gerund") &&
    !SWITCHES[next.norm];
  if (sw === "Plural|Verb" && /s$/.test(w.norm)) {
    // "Ana leads the team": after the subject and before an object, an -s word is the verb.
    const verb = i > 0 && nominal && !verbSoFar && !nextIsVerb;
    w.tags = verb ? tagsOf("PresentTense") : tagsOf("Plural");
  } else if (sw === "Noun|Verb" || sw === "Actor|Verb" || sw === "Person|Verb") {
    const verb = i > 0 && !verbSoFar && prev !== undefined && BEFORE_VERB.has(prev.norm) && !nextIsVerb;
    if (verb) w.tags = tagsOf("Infinitive");
    else if (w.tags.has("Verb")) w.tags = tagsOf(sw === "Person|Verb" ? "FirstName" : "Singular");
  } else if (sw === "Adj|Past" && prev?.tags.has("Copula") && next?.norm === "by") {
    w.tags = tagsOf("PastTense"); // "is watched by Jonas"
  }
  if (i > 0 && /^\p{Lu}/u.test(w.text) && w.tags.has("Noun") && !w.tags.has("Date")) {
    w.tags = new Set([...w.tags, "ProperNoun"]);
  }
  w.root = rootOf(w);
}

const ROOTS = new Map<string, string>();

/** A verb's dictionary form ("leads" → "lead"), from compromise's conjugation model; remembered. */
function rootOf(w: Word): string {
  if (!w.tags.has("Verb") || w.tags.has("Copula") || w.tags.has("Infinitive")) return w.norm;
  const tense = ["PastTense", "Gerund", "PresentTense"].find((t) => w.tags.has(t));
  if (!tense) return w.norm;
  const key = `${tense} ${w.norm}`;
  let root = ROOTS.get(key);
  if (root === undefined) {
    if (ROOTS.size >= 5000) ROOTS.clear();
    ROOTS.set(key, root = toInfinitive(w.norm, world.model, tense) || w.norm);
  }
  return root;
}
