/**
 * Word matching and ranked retrieval for memory search: words lower-cased,
 * accents removed, common words dropped, stemmed with the Porter stemmer
 * (`stemmer`), and memories ranked by BM25 (`minisearch`). A memory counts
 * as a match when it holds at least half of the query's meaningful words,
 * where words that only say what kind of answer is wanted ("the launch
 * date") count for a memory that has them but never against one that does not.
 *
 * @module
 */

import MiniSearch from "minisearch";
import { stemmer } from "stemmer";

const STOP = new Set(
  ("a an the and or but nor of to in on at for by with from as into onto about over " +
    "is are was were be been being am it its this that these those " +
    "i me my mine we us our ours you your yours he him his she her hers they them their theirs " +
    "do does did done what whats when whens where wheres who whos whom whose which why how hows " +
    "know knew tell told say said says remind any anything something some all also very " +
    "there theres here have has had will would can could should shall might must " +
    "please just so than then too not no yes if ok okay hi hey hello thanks thank " +
    "s t d m ll re ve now actually still currently " +
    "remember note notes forget memory memories project").split(" "),
);

/**
 * Words a question uses to say what kind of answer it wants. They count for
 * a memory that has them, but not against one that does not: "the launch
 * date" asks about the launch.
 */
export const VAGUE: ReadonlySet<string> = new Set(
  ("date time day hour week month year place name number thing stuff " +
    "info information detail status kind sort").split(" ").map((w) => stemmer(w)),
);

/** The words of a text, lower-cased and without accents. */
function words(text: string): string[] {
  // Plain ASCII has no accents to remove, and its letters and digits are a-z and 0-9: the Unicode
  // classes, several times slower, are for the texts that need them.
  if (!NON_ASCII.test(text)) return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const NON_ASCII = /[\u0080-\uffff]/;

const STEMS = new Map<string, string>();
const STEMS_LIMIT = 20_000;

/** A word's stem, or null for a common word. Stems are remembered: a project's words repeat. */
function term(word: string): string | null {
  if (STOP.has(word)) return null;
  let stem = STEMS.get(word);
  if (stem === undefined) {
    stem = stemmer(word);
    if (STEMS.size >= STEMS_LIMIT) STEMS.clear();
    STEMS.set(word, stem);
  }
  return stem;
}

/**
 * The meaningful words of a text, stemmed, without repeats.
 *
 * @example
 * ```ts
 * import { keywords } from "./words.ts";
 * console.log(keywords("When are the launch meetings?")); // ["launch", "meet"]
 * ```
 */
export function keywords(text: string): string[] {
  // A Set keeps the first-seen order and stays linear on a long message.
  const out = new Set<string>();
  for (const word of words(text)) {
    const t = term(word);
    if (t) out.add(t);
  }
  return [...out];
}

/**
 * A readable key for what a fact is about: its meaningful words in lower
 * case, without vague ones and without a possessive 's ("The launch date's" → "launch").
 *
 * @example
 * ```ts
 * import { subjectKey } from "./words.ts";
 * console.log(subjectKey("Our launch date")); // launch
 * ```
 */
export function subjectKey(text: string): string {
  const owned = text.includes("'") || text.includes("’") ? text.replace(/['’]s\b/g, "") : text;
  const meaningful = words(owned).filter((w) => !STOP.has(w));
  const strong = meaningful.filter((w) => !VAGUE.has(term(w)!));
  return (strong.length > 0 ? strong : meaningful).join(" ");
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
  return coverage(keywords(query), new Set(keywords(text)));
}

function coverage(q: string[], t: ReadonlySet<string>): number {
  if (q.length === 0) return 0;
  const vague = new Set(q.filter((w) => VAGUE.has(w)));
  const strong = q.filter((w) => !vague.has(w));
  // A query of vague words only ("the date?") must match them.
  if (strong.length === 0) return q.filter((w) => t.has(w)).length / q.length;
  const strongHits = strong.filter((w) => t.has(w)).length;
  if (strongHits === 0) return 0;
  const vagueHits = [...vague].filter((w) => t.has(w)).length;
  return (strongHits + vagueHits) / (strong.length + vagueHits);
}

/** The minimum share of a query's words for a text to count as a match. */
export const MATCH_THRESHOLD = 0.5;

/** One ranked match: the item, its BM25 score and the share of the query it covers. */
export interface Ranked<T> {
  item: T;
  /** BM25 relevance, for the order. */
  score: number;
  /** The share of the query's words the item holds, from 0 to 1. */
  coverage: number;
}

/**
 * Ranks texts for a query by BM25 over stemmed words, keeping those that
 * cover at least {@linkcode MATCH_THRESHOLD} of the query, best first.
 *
 * @example
 * ```ts
 * import { rank } from "./words.ts";
 * const found = rank("launch party", ["The launch is on May 3", "Bob bakes bread", "The launch party is at the lab"], (t) => t);
 * console.log(found.map((f) => f.item)); // ["The launch party is at the lab", "The launch is on May 3"]
 * ```
 */
export function rank<T>(
  query: string,
  items: readonly T[],
  textOf: (item: T) => string,
  limit = 5,
): Ranked<T>[] {
  const q = keywords(query);
  if (q.length === 0 || items.length === 0) return [];
  const texts = items.map(textOf);
  const { index, terms } = indexOf(texts);
  const scores = new Map<number, number>();
  for (const hit of index.search(q.join(" "), { tokenize: (s) => s.split(" "), processTerm: (w) => w })) {
    scores.set(hit.id as number, hit.score);
  }
  const out: Ranked<T>[] = [];
  for (const [id, score] of scores) {
    const c = coverage(q, terms[id]!);
    if (c >= MATCH_THRESHOLD) out.push({ item: items[id]!, score, coverage: c });
  }
  return out.sort((a, b) => b.coverage - a.coverage || b.score - a.score).slice(0, limit);
}

/** A BM25 index over a list of texts, and each text's stemmed words. */
interface Index {
  index: MiniSearch<{ id: number; text: string }>;
  terms: ReadonlySet<string>[];
}

const INDEXES = new Map<string, Index>();
const INDEXES_LIMIT = 32;

/**
 * The index for a list of texts, built once per list: a project's memories
 * are searched again and again between changes, so the index is kept, keyed
 * by the texts in order (any change to the memories is a new key).
 */
function indexOf(texts: readonly string[]): Index {
  const key = texts.join("\u0000");
  const known = INDEXES.get(key);
  if (known) {
    // Most recently used last, so the oldest goes first when the cache is full.
    INDEXES.delete(key);
    INDEXES.set(key, known);
    return known;
  }
  const index = new MiniSearch<{ id: number; text: string }>({
    fields: ["text"],
    tokenize: words,
    processTerm: (w) => term(w) ?? false,
  });
  index.addAll(texts.map((text, id) => ({ id, text })));
  const built = { index, terms: texts.map((t) => new Set(keywords(t))) };
  if (INDEXES.size >= INDEXES_LIMIT) INDEXES.delete(INDEXES.keys().next().value!);
  INDEXES.set(key, built);
  return built;
}
