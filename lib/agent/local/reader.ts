/**
 * The local engine's reader: what a message asks, request by request. It
 * works on compromise's tagged words, not on the message's characters: the
 * openers a person adds ("Hi,", "please", "can you", "I'd like you to") are
 * set aside by meaning, and so are emoji, quotes and punctuation around the
 * message; one message may hold several requests ("Remember that Ana leads
 * design and tell me when the launch is").
 *
 * @module
 */

import { subjectKey } from "../words.ts";
import { type Fact, plainFact, readFact } from "./facts.ts";
import { is, type Sentence, sentences, type Word } from "./parse.ts";

/** The things the local engine can be asked. */
export type IntentName =
  | "remember"
  | "update"
  | "forget"
  | "list"
  | "count"
  | "recall"
  | "check"
  | "summarize"
  | "facts"
  | "save_offered"
  | "greeting"
  | "thanks"
  | "help"
  | "other";

/** One request of a message. */
export interface Request {
  intent: IntentName;
  /** What it is about, in the user's words: the fact, the question's subject, the words to forget. */
  subject: string;
  /** The facts it states (remember, update, facts), read from the user's words. */
  facts: Fact[];
  /** For a question: its question word ("when", "who", "yes/no"…). */
  asks?: string;
  /** For a yes/no question: the fact it asks about ("Is the launch on June 1?"). */
  claim?: Fact;
  /** Whether the subject was quoted ('Forget "tea at 4"'): match it as written. */
  quoted?: boolean;
  /** For "Remember: A. B.": each fact's text, when there are several. */
  parts?: string[];
  /** The words that decided the intent, for the plan's "why". */
  cue: string;
}

const GREETINGS = new Set(["hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "morning", "evening"]);
const FILLERS = new Set([
  "ok",
  "okay",
  "so",
  "well",
  "alright",
  "now",
  "also",
  "and",
  "then",
  "plus",
  "lantern",
  "please",
  "pls",
  "kindly",
  "just",
  "oh",
  "btw",
  "hmm",
  "right",
  "cool",
  "great",
  "yes",
  "yeah",
  "yep",
  "sure",
  "there",
]);
const THANKS = new Set([
  "thanks",
  "thank",
  "thx",
  "ty",
  "cheers",
  "appreciated",
  "perfect",
  "awesome",
  "nice",
]);
const REMEMBER = new Set([
  "remember",
  "memorize",
  "memorise",
  "note",
  "save",
  "store",
  "record",
  "jot",
  "write",
  "keep",
  "add",
]);
const FORGET = new Set(["forget", "delete", "remove", "drop", "erase", "discard", "unlearn", "clear"]);
const WH = new Set(["what", "when", "who", "where", "which", "whose", "why", "how", "whom"]);
const AUX = new Set([
  "is",
  "are",
  "was",
  "were",
  "does",
  "do",
  "did",
  "has",
  "have",
  "will",
  "should",
  "can",
  "could",
  "would",
  "am",
]);
const MEMORY_WORDS = new Set([
  "memory",
  "memories",
  "notes",
  "note",
  "facts",
  "fact",
  "everything",
  "entries",
]);
const HEADS = new Set([
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

/** A stretch of words with the text it came from. */
interface Span {
  text: string;
  words: Word[];
  sentence: Sentence;
}

/** The words only, lower case, for fixed phrases. */
const phrase = (ws: Word[]): string => ws.map((w) => w.norm).join(" ").replace(/\s+/g, " ").trim();

/**
 * Reads every request of a message, in order.
 *
 * @example
 * ```ts
 * import { read } from "./reader.ts";
 * const requests = read("🚀 Remember that Ana leads design and tell me when the launch is");
 * console.log(requests.map((r) => [r.intent, r.subject])); // [["remember", "Ana leads design"], ["recall", "the launch"]]
 * ```
 */
export function read(message: string): Request[] {
  const text = message.normalize("NFC");
  if (text.trim() === "") return [request("other", "", "an empty message")];
  const all = sentences(text);
  const requests: Request[] = [];
  const statements: Fact[] = [];
  for (const sentence of all) {
    for (const clause of clauses({ text, words: sentence.words, sentence })) {
      const r = readClause(clause, text);
      if ((r.intent === "other" || r.intent === "update") && r.facts.length > 0) statements.push(...r.facts);
      requests.push(r);
    }
  }
  fold(requests);
  // A paragraph of statements: list the facts and offer to keep them.
  const said = requests.filter((r) => r.intent !== "greeting" && r.intent !== "thanks");
  if (
    (statements.length >= 2 || (statements.length === 1 && text.length > 300)) &&
    said.every((r) => r.intent === "other" || r.intent === "update") && said.some((r) => r.intent === "other")
  ) {
    return [{ ...request("facts", text.trim(), `${statements.length} statements`), facts: statements }];
  }
  const useful = requests.filter((r) => r.intent !== "greeting" || requests.length === 1);
  const merged = useful.length > 0 ? useful : requests;
  // "Hi! Thanks" and the like: one reply is enough.
  return merged.filter((r, i) =>
    i === 0 || r.intent !== merged[i - 1]!.intent || (r.intent !== "greeting" && r.intent !== "thanks")
  );
}

/**
 * "Remember: A. B." is one request with two facts: the statements after a
 * request to remember belong to it.
 */
function fold(requests: Request[]): void {
  for (let i = 1; i < requests.length; i++) {
    const prev = requests[i - 1]!;
    const cur = requests[i]!;
    const remembering = prev.intent === "remember" ||
      (prev.intent === "save_offered" && !/\b(?:those|these|them|all)\b/.test(prev.cue));
    if (!remembering || cur.intent !== "other" || cur.subject === "") continue;
    const facts = cur.facts.length > 0 ? cur.facts : [];
    requests.splice(i, 1);
    requests[i - 1] = {
      ...prev,
      intent: "remember",
      subject: prev.subject ? `${prev.subject}\n${cur.subject}` : cur.subject,
      facts: prev.facts.length > 0 || !prev.subject ? [...prev.facts, ...facts] : prev.facts,
      parts: [...(prev.parts ?? (prev.subject ? [prev.subject] : [])), cur.subject],
    };
    i--;
  }
}

function request(intent: IntentName, subject: string, cue: string, facts: Fact[] = []): Request {
  return { intent, subject, facts, cue };
}

/** Splits a sentence where a second request starts: "…, and tell me…", "… then forget…". */
function clauses(span: Span): Span[] {
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
function readHead(ws: Word[]): boolean {
  const w = strip(ws).words;
  const first = w[0]?.norm ?? "";
  return REMEMBER.has(first) || FORGET.has(first) || WH.has(first) ||
    ["tell", "remind", "list", "show"].includes(first) ||
    (first === "do" && w[1]?.norm === "not") || first === "don't";
}

/** Sets aside openers ("hi", "please", "can you", "I'd like you to") and closers ("please", "thanks"). */
function strip(
  words: Word[],
): { words: Word[]; greeted: boolean; asked: boolean; thanked: boolean; closed: boolean } {
  // Emoji, symbols and stray punctuation say nothing about the intent.
  let ws = words.filter((w) => w.text === "" || (!is(w, "Emoji") && /[\p{L}\p{N}]/u.test(w.text)));
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
    } else if (a === "i" && b && ["want", "need", "like", "would", "'d"].includes(b)) {
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

const QUESTION_NOUNS = new Set(["time", "day", "date", "year", "month", "hour", "place", "name", "number"]);
const HELP = new Set([
  "help",
  "help me",
  "what can you do",
  "what could you do",
  "what do you do",
  "what can you do for me",
  "what are you",
  "who are you",
  "what is this",
  "what is lantern",
  "how do you work",
  "how does this work",
  "how does it work",
  "how does lantern work",
  "how do i use you",
  "how do i use this",
  "how can i use you",
  "how can i use this",
  "what are your commands",
  "what are the commands",
  "what are your options",
  "what are your capabilities",
  "what are your features",
  "commands",
  "usage",
  "",
]);
const SMALL_TALK = new Set([
  "how are you",
  "how are you doing",
  "how are you today",
  "how is it going",
  "what is up",
  "sup",
  "there",
  "everyone",
  "all",
  "again",
  "friend",
]);
const LIST = new Set([
  "what do you remember",
  "what do you know",
  "what did you remember",
  "what do you have",
  "what have you got",
  "what have you remembered",
  "what have you noted",
  "what have you saved",
  "what have you stored",
  "what have you learned",
  "what have you learnt",
  "what do you have saved",
  "what do you have stored",
  "what is in your memory",
  "what is in the memory",
  "what is in my memory",
  "what do you have in memory",
  "memories",
  "my memories",
  "your memories",
  "all memories",
  "the memories",
  "project memories",
  "everything you know",
  "everything you remember",
]);
const LIST_TAIL =
  /\s(?:so far|now|here|for me|for this project|for the project|about this project|about the project|about my project|in this project|in the project)$/;
const REFERS_BACK = new Set([
  "",
  "that",
  "this",
  "it",
  "those",
  "these",
  "them",
  "all",
  "all that",
  "all of that",
  "all of those",
  "all of them",
  "these facts",
  "those facts",
  "the facts",
  "everything",
  "all of it",
  "them all",
  "those all",
  "this down",
  "that down",
  "it down",
  "those down",
]);
const EVERYTHING = new Set([
  "everything",
  "all",
  "it all",
  "all of it",
  "all of them",
  "all of that",
  "all memories",
  "all notes",
  "memory",
  "memories",
  "what you know",
  "all you know",
  "all you remember",
  "everything you know",
  "everything you remember",
]);

/**
 * A fact in the user's words: quotes around it dropped, and an emoji after
 * it too ("… on Friday ✨"), unless the emoji is the value ("the mascot is 🦊").
 */
function ownFact(span: Span, rest: Word[], asked: boolean, last: Word | undefined): string {
  let fact = tail(span, rest[0], asked ? /[\s.!;,:?]+$/ : undefined, last);
  const start = rest[0] ? rest[0].start : 0;
  if (span.text[start - 1] === '"' && fact.endsWith('"')) fact = fact.slice(0, -1).trim();
  else if (/^"[^"]+"$/.test(fact)) fact = fact.slice(1, -1).trim();
  const plain = fact.replace(/(?:\s*[\p{Extended_Pictographic}\u200d\ufe0f]+)+$/u, "").replace(
    /[\s.!;,:]+$/,
    "",
  );
  if (plain !== fact && plain !== "" && readFact(plain)) fact = plain;
  return fact;
}

/** Whether a request to forget names everything: the local engine only forgets what is named. */
export function forgetsEverything(subject: string): boolean {
  return EVERYTHING.has(subject.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, "").replace(/\s+/g, " ").trim());
}

/** The text from a word to the end of the clause, without a final stop; the user's own characters. */
function tail(span: Span, word: Word | undefined, drop = /[\s.!;,:]+$/, last?: Word): string {
  if (!word) return "";
  const end = last ?? span.words.at(-1)!;
  return span.text.slice(word.start, end.end + (/^[^\s.!?,;:]+/.exec(end.post)?.[0].length ?? 0)).replace(
    drop,
    "",
  ).trim();
}

function readClause(span: Span, text: string): Request {
  const { words: w, greeted, asked, thanked, closed } = strip(span.words);
  // The user's words end where a closing "please" or "thanks" starts; a trailing emoji stays.
  const last = closed ? w.at(-1) : undefined;
  const asking = span.words.at(-1)!.post.includes("?") ||
    text.slice(span.words.at(-1)!.end).trimStart().startsWith("?");
  const p = phrase(w);
  const bare = p.replace(/\s+(?:please|lantern)$/, "");
  if (thanked && (w.length === 0 || ["so much", "much", "a lot", "very much", "lantern"].includes(bare))) {
    return request("thanks", "", "thank you");
  }
  if (w.length === 0 || SMALL_TALK.has(bare)) {
    if (thanked) return request("thanks", "", "thanks");
    return request(greeted || w.length > 0 ? "greeting" : "other", "", greeted ? "a greeting" : "no words");
  }
  const a = w[0]!.norm;
  if (THANKS.has(a) && w.length <= 4 && !w.some((x) => is(x, "Verb") && !THANKS.has(x.norm))) {
    return request("thanks", "", a);
  }
  if (
    ["got it", "good", "ok", "okay", "cool", "great", "much appreciated", "thank you", "thank you so much"]
      .includes(bare)
  ) {
    return request("thanks", "", bare);
  }
  if (HELP.has(bare) || /^\?+$/.test(span.text.trim())) return request("help", "", bare || "?");

  // Remember: "remember (that) X", "note to self: X", "don't forget X", "keep in mind X"…
  const rem = rememberHead(w);
  if (rem > 0) {
    let i = rem;
    if (w[i]?.norm === "the" && w[i + 1]?.norm === "fact" && w[i + 2]?.norm === "that") i += 3;
    else if (w[i]?.norm === "that" && !(w[i + 1] && is(w[i + 1], "Verb"))) i += 1;
    // "Memorize this: X", "Note this down: X"
    if (
      (w[i]?.norm === "this" || w[i]?.norm === "that") && w[i + 1] &&
      (w[i]!.post.includes(":") || w[i + 1]!.norm === "down")
    ) {
      i += w[i + 1]!.norm === "down" ? 2 : 1;
    }
    const rest = w.slice(i);
    const said = phrase(rest);
    if (rest[0] && WH.has(rest[0].norm) && asking) {
      return recall(span, rest, `"${phrase(w.slice(0, rem))}" + a question`);
    }
    if (REFERS_BACK.has(said)) {
      return request("save_offered", "", phrase(w.slice(0, rem)) + (said ? ` ${said}` : ""));
    }
    const fact = ownFact(span, rest, asked, last);
    const read = readFact(fact);
    return request("remember", fact, phrase(w.slice(0, rem)), read ? [read] : []);
  }
  // Forget: "forget (about) X", "delete the memory about X", 'forget "X"'.
  if (FORGET.has(a) && !(a === "clear" && w[1]?.norm !== "the")) {
    let i = 1;
    if (["the", "my", "your", "that", "this", "our"].includes(w[i]?.norm ?? "")) i++;
    if (MEMORY_WORDS.has(w[i]?.norm ?? "") && w.length > i + 1) i++;
    if (["about", "of", "on", "saying", "where", "with", "that", "regarding"].includes(w[i]?.norm ?? "")) i++;
    else if (w[i]?.norm === "which" && w[i + 1]?.norm === "says") i += 2;
    const rest = w.slice(i);
    let subject = tail(span, rest[0], /[\s.!?;,:]+$/, last);
    const quoted = /^["'].+["']$/.test(subject);
    if (quoted) subject = subject.slice(1, -1).trim();
    if (["it", "that", "this", "something", ""].includes(subject.toLowerCase())) subject = "";
    return { ...request("forget", subject, a), ...(quoted ? { quoted } : {}) };
  }
  // How many things do you remember?
  if (
    a === "how" && w[1]?.norm === "many" && MEMORY_WORDS.has(w[2]?.norm ?? "") ||
    /^how many things do you (?:remember|know)/.test(p)
  ) {
    return request("count", "", "how many + memories");
  }
  // List: "list memories", "show me your notes", "what do you remember?"
  const listed = bare.replace(LIST_TAIL, "");
  if (LIST.has(listed) || LIST.has(listed.replace(LIST_TAIL, ""))) return request("list", "", listed);
  if (
    ["list", "show", "display", "read", "give", "tell"].includes(a) && w.length <= 8 &&
    w.some((x, i) => i > 0 && (MEMORY_WORDS.has(x.norm) || (x.norm === "what" && w[i + 1]?.norm === "you")))
  ) {
    if (!w.some((x) => x.norm === "about" || x.norm === "regarding")) {
      return request("list", "", `${a} + memories`);
    }
  }
  // Summarize: "summarize", "give me a summary", "catch me up", "where are we?"
  const summary = summarizeCue(w, bare);
  if (summary) return request("summarize", "", summary);
  const recalled = recallOrCheck(span, w, asking);
  if (recalled) return recalled;
  // A statement: a fact to keep, a change to record, or just talk.
  const fact = ownFact(span, w, false, last);
  const read = readFact(fact);
  if (read && read.changed) {
    return request("update", fact, "a change: " + (read.verb === "be" ? "moved/now/actually" : read.verb), [
      read,
    ]);
  }
  return request(
    "other",
    fact,
    read ? "a statement" : "nothing I have a tool for",
    // A statement the parse cannot split is still a statement: it does not start with a verb ("Write me…").
    asking ? [] : read ? [read] : w.length >= 4 && !is(w[0], "Verb") ? [plainFact(fact)] : [],
  );
}

/** How many words say "remember": 1 for "remember", 3 for "note to self", 0 for none. */
function rememberHead(w: Word[]): number {
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

function summarizeCue(w: Word[], bare: string): string {
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

/** Questions: "when is X", "tell me about X", "do you know who X is", "is X on Y?" */
function recallOrCheck(span: Span, w: Word[], asking: boolean): Request | null {
  let i = 0;
  const at = (k: number) => w[i + k]?.norm ?? "";
  let cue = "";
  if ((at(0) === "tell" || at(0) === "remind") && (at(1) === "me" || at(1) === "us")) {
    cue = `${at(0)} me`;
    i += 2;
    if (at(0) === "what" && at(1) === "you" && (at(2) === "know" || at(2) === "remember")) i += 3;
    if (["about", "of", "regarding"].includes(at(0))) return recall(span, w.slice(i + 1), cue);
  } else if (
    (at(0) === "do" || at(0) === "did") && (at(1) === "you" || at(1) === "i") &&
    ["know", "remember", "recall", "have"].includes(at(2))
  ) {
    cue = `${at(0)} ${at(1)} ${at(2)}`;
    i += 3;
    if (at(0) === "anything" || at(0) === "something") i++;
    if (["about", "of", "on", "regarding"].includes(at(0))) i++;
    return recall(span, w.slice(i), cue);
  } else if (
    (at(0) === "anything" || at(0) === "something") && ["about", "on", "regarding"].includes(at(1))
  ) {
    return recall(span, w.slice(2), "anything about");
  } else if (
    ["summary", "overview", "recap", "rundown"].includes(
      at(w[0]?.norm === "a" || w[0]?.norm === "the" ? 1 : 0),
    )
  ) {
    i = w[0]?.norm === "a" || w[0]?.norm === "the" ? 2 : 1;
    if (["of", "on", "about", "for"].includes(at(0))) return recall(span, w.slice(i + 1), "a summary of");
    return null;
  }
  const first = at(0);
  if (WH.has(first)) {
    // "what do you know about X", "what did I tell you about X", "what have I told you about X"
    const about = w.findIndex((x, k) => k > i && k < i + 7 && ["about", "regarding"].includes(x.norm));
    const talk = w.slice(i + 1, about).some((x) =>
      [
        "know",
        "remember",
        "recall",
        "tell",
        "told",
        "say",
        "said",
        "note",
        "noted",
        "write",
        "got",
        "saved",
        "have",
      ].includes(x.norm)
    );
    if (about > 0 && talk) return recall(span, w.slice(about + 1), `${first} … about`);
    if (first === "what" && at(1) === "about") return recall(span, w.slice(i + 2), "what about");
    return recall(span, w.slice(i), cue || first);
  }
  if (cue) return recall(span, w.slice(i), cue);
  if (AUX.has(first) && asking && w.length > 2) return check(span, w.slice(i), first);
  return null;
}

/** A question about something: its subject without the question's own words. */
function recall(span: Span, rest: Word[], cue: string): Request {
  let ws = rest;
  let asks = "what";
  if (ws[0] && WH.has(ws[0].norm)) {
    asks = ws[0].norm;
    if (asks === "how" && ["many", "much", "long", "often"].includes(ws[1]?.norm ?? "")) {
      asks += ` ${ws[1]!.norm}`;
    }
    ws = ws.slice(asks.split(" ").length);
    if (ws[0]?.norm === "whether" || ws[0]?.norm === "if") ws = ws.slice(1);
  }
  // "What time is the standup" asks about "the standup time".
  let asked = "";
  if (ws[0] && QUESTION_NOUNS.has(ws[0].norm) && ws[1] && AUX.has(ws[1].norm)) {
    asked = ws[0].text;
    ws = ws.slice(1);
  }
  while (ws[0] && (AUX.has(ws[0].norm) || ws[0].norm === "be")) ws = ws.slice(1);
  while (ws[0] && ["about", "of", "on", "regarding"].includes(ws[0].norm)) ws = ws.slice(1);
  // "when the launch is", "who Bob is": the verb at the end belongs to the question.
  while (
    ws.length > 1 &&
    (AUX.has(ws.at(-1)!.norm) || ["be", "happen", "happens", "due", "set"].includes(ws.at(-1)!.norm))
  ) {
    ws = ws.slice(0, -1);
  }
  let subject = ws.length ? span.text.slice(ws[0]!.start, ws.at(-1)!.end).trim() : "";
  if (asked && subject) subject = `${subject} ${asked}`;
  if (
    !ws.some((x) =>
      /[\p{L}\p{N}]/u.test(x.text) &&
      !["it", "that", "this", "there", "you", "anything", "something"].includes(x.norm)
    )
  ) subject = "";
  return { ...request("recall", subject, cue), asks };
}

/** A yes/no question: "Is the launch on June 1?", "Does Ana lead design?" */
function check(span: Span, rest: Word[], aux: string): Request {
  const ws = rest.slice(1);
  // The subject runs to the first word that starts the claim: a preposition, a date, a value, a verb.
  let end = ws.findIndex((x, k) =>
    k > 0 &&
    (is(x, "Preposition") || is(x, "Date") || is(x, "Value") || is(x, "Verb") || is(x, "Adjective") ||
      (is(x, "Determiner") && k > 0) || (is(ws[k - 1], "ProperNoun") && !is(x, "ProperNoun")))
  );
  if (end < 0) end = ws.length;
  const subjectWords = ws.slice(0, end);
  const claimWords = ws.slice(end);
  const subject = subjectWords.length
    ? span.text.slice(subjectWords[0]!.start, subjectWords.at(-1)!.end)
    : "";
  const value = claimWords.length ? span.text.slice(claimWords[0]!.start, claimWords.at(-1)!.end) : "";
  const said = `${subject} ${aux === "does" || aux === "do" || aux === "did" ? "" : aux + " "}${value}`
    .replace(/\s+/g, " ");
  const claim = readFact(said) ??
    (subject && value
      ? {
        text: said,
        subject,
        key: subjectKey(subject),
        kind: "what" as const,
        value,
        bare: value,
        prep: "",
        verb: "",
        changed: false,
        negated: false,
      }
      : null);
  return {
    ...request("check", subject || value, `"${aux} …?"`),
    asks: "yes/no",
    ...(claim ? { claim } : {}),
  };
}

/**
 * The first request of a message, as intent and subject: the short form
 * the engine's tests and the timeline use.
 *
 * @example
 * ```ts
 * import { classify } from "./reader.ts";
 * console.log(classify("Please remember: the demo is on Friday.")); // { name: "remember", subject: "the demo is on Friday" }
 * console.log(classify("What's the launch date?")); // { name: "recall", subject: "the launch date" }
 * ```
 */
export function classify(message: string): { name: IntentName; subject: string } {
  const first = read(message)[0]!;
  // "Remember" alone is a request to remember with nothing named yet.
  return { name: first.intent === "save_offered" ? "remember" : first.intent, subject: first.subject };
}
