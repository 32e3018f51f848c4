/**
 * The local engine's words: which words open a request, set it aside, ask a
 * question or refer back. Compared with compromise's normalized words
 * (lower case, contractions expanded), never with raw characters.
 *
 * @example
 * ```ts
 * import { forgetsEverything, REMEMBER } from "./lexicon.ts";
 * console.log(REMEMBER.has("note"), forgetsEverything("all of it")); // true true
 * ```
 *
 * @module
 */

/** Words that greet; set aside before a request. */
export const GREETINGS = new Set([
  "hi",
  "hello",
  "hey",
  "hiya",
  "howdy",
  "yo",
  "greetings",
  "morning",
  "evening",
]);
/** Words people open with that say nothing about the request ("ok so please…"). */
// deno-fmt-ignore
export const FILLERS = new Set([
  "ok", "okay", "so", "well", "alright", "now", "also", "and", "then", "plus", "lantern", "please", "pls",
  "kindly", "just", "oh", "btw", "hmm", "right", "cool", "great", "yes", "yeah", "yep", "sure", "there",
]);
/** Words that thank. */
// deno-fmt-ignore
export const THANKS = new Set([
  "thanks", "thank", "thx", "ty", "cheers", "appreciated", "perfect", "awesome", "nice",
]);
/** Verbs that ask to remember (some only with the next word: "write down", "keep in mind"). */
// deno-fmt-ignore
export const REMEMBER = new Set([
  "remember", "memorize", "memorise", "note", "save", "store", "record", "jot", "write", "keep", "add",
]);
/** Verbs that ask to forget. */
export const FORGET = new Set(["forget", "delete", "remove", "drop", "erase", "discard", "unlearn", "clear"]);
/** Question words. */
export const WH = new Set(["what", "when", "who", "where", "which", "whose", "why", "how", "whom"]);
/** Verbs that open a yes/no question ("Is…", "Does…"). */
// deno-fmt-ignore
export const AUX = new Set([
  "is", "are", "was", "were", "does", "do", "did", "has", "have", "will", "should", "can", "could",
  "would", "am",
]);
/** Words for the memory itself ("notes", "facts"). */
// deno-fmt-ignore
export const MEMORY_WORDS = new Set([
  "memory", "memories", "notes", "note", "facts", "fact", "everything", "entries",
]);
/** Words that can start a second request after "and" / "then". */
export const HEADS = new Set([
  ...REMEMBER,
  ...FORGET,
  ...WH,
  "tell",
  "remind",
  "list",
  "show",
  "summarize",
  "summarise",
  "give",
  "don't",
  "do",
  "is",
  "are",
  "does",
  "did",
]);

/** Nouns that say what kind of answer a question wants ("What time is…"). */
export const QUESTION_NOUNS = new Set([
  "time",
  "day",
  "date",
  "year",
  "month",
  "hour",
  "place",
  "name",
  "number",
]);
/** Ways to ask for help, as normalized phrases. */
// deno-fmt-ignore
export const HELP = new Set([
  "help", "help me", "what can you do", "what could you do", "what do you do", "what can you do for me",
  "what are you", "who are you", "what is this", "what is lantern", "how do you work",
  "how does this work", "how does it work", "how does lantern work", "how do i use you",
  "how do i use this", "how can i use you", "how can i use this", "what are your commands",
  "what are the commands", "what are your options", "what are your capabilities", "what are your features",
  "commands", "usage", "",
]);
/** Greetings that are whole phrases ("how are you"). */
// deno-fmt-ignore
export const SMALL_TALK = new Set([
  "how are you", "how are you doing", "how are you today", "how is it going", "what is up", "sup", "there",
  "everyone", "all", "again", "friend",
]);
/** Ways to ask for everything remembered, as normalized phrases. */
// deno-fmt-ignore
export const LIST = new Set([
  "what do you remember", "what do you know", "what did you remember", "what do you have",
  "what have you got", "what have you remembered", "what have you noted", "what have you saved",
  "what have you stored", "what have you learned", "what have you learnt", "what do you have saved",
  "what do you have stored", "what is in your memory", "what is in the memory", "what is in my memory",
  "what do you have in memory", "memories", "my memories", "your memories", "all memories", "the memories",
  "project memories", "everything you know", "everything you remember",
]);
/** Words that may end a request to list ("so far", "for this project"). */
export const LIST_TAIL =
  /\s(?:so far|now|here|for me|for this project|for the project|about this project|about the project|about my project|in this project|in the project)$/;
/** What "remember …" may end with to mean what was said before ("remember those"). */
// deno-fmt-ignore
export const REFERS_BACK = new Set([
  "", "that", "this", "it", "those", "these", "them", "all", "all that", "all of that", "all of those",
  "all of them", "these facts", "those facts", "the facts", "everything", "all of it", "them all",
  "those all", "this down", "that down", "it down", "those down",
]);
/** Ways to say "everything": the local engine forgets only what is named. */
// deno-fmt-ignore
export const EVERYTHING = new Set([
  "everything", "all", "it all", "all of it", "all of them", "all of that", "all memories", "all notes",
  "memory", "memories", "what you know", "all you know", "all you remember", "everything you know",
  "everything you remember",
]);

/** Whether a request to forget names everything: the local engine only forgets what is named. */
export function forgetsEverything(subject: string): boolean {
  return EVERYTHING.has(subject.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, "").replace(/\s+/g, " ").trim());
}

/** First words that may open a request, a question or a correction: such a sentence of a long message goes to compromise. */
// deno-fmt-ignore
export const ASK_OPENERS = new Set([
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
  "update", "wait", "sorry", "no", "fyi", "sup", "a", "the", "my", "your", "all", "everything", "everyone",
  "again", "friend", "commands", "usage", "display", "read", "projects", "quick", "short", "brief",
]);
/** Words between a subject and its verb that say when or how sure ("Ana now leads…"). */
export const SET_ASIDE = new Set([
  "now",
  "actually",
  "currently",
  "also",
  "still",
  "just",
  "already",
  "only",
]);
/** Words that join two requests in one sentence. */
export const JOINERS = new Set(["and", "then", "also"]);
/** Words that start a second request after a joiner (clauses.ts splits there); see ASK_OPENERS. */
// deno-fmt-ignore
export const ASK_AFTER_JOINER = new Set([
  "remember", "memorize", "memorise", "note", "save", "store", "record", "jot", "write", "keep", "add",
  "forget", "delete", "remove", "drop", "erase", "discard", "unlearn", "clear", "tell", "remind", "list",
  "show", "summarize", "summarise", "give", "don't", "please", "what", "when", "who", "where", "which",
  "whose", "why", "how", "whom",
]);
