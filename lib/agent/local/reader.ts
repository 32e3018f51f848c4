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

import { factIn, factsIn, plainFact, readFact } from "./facts.ts";
import { clauses, ownFact, phrase, type Span, strip, tail, within } from "./clauses.ts";
import {
  FORGET,
  HELP,
  LIST,
  LIST_TAIL,
  MEMORY_WORDS,
  REFERS_BACK,
  SMALL_TALK,
  THANKS,
  WH,
} from "./lexicon.ts";
import { rememberHead, summarizeCue } from "./openers.ts";
import { recall, recallOrCheck } from "./questions.ts";
import { type IntentName, type Request, request } from "./requests.ts";
import { is, sentences, type Word } from "./parse.ts";

export type { IntentName, Request } from "./requests.ts";
export { forgetsEverything } from "./lexicon.ts";
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
  // ASCII is in normal form already: a long message skips the normalizer's pass over it.
  const text = NON_ASCII.test(message) ? message.normalize("NFC") : message;
  if (text.trim() === "") return [request("other", "", "an empty message")];
  const all = sentences(text);
  const requests: Request[] = [];
  for (const sentence of all) {
    const span = { text, words: sentence.words, sentence };
    // A plain statement of a long message asks nothing (see light_tagger.ts): only its fact is read.
    if (sentence.statement) {
      requests.push(statement(span, text));
      continue;
    }
    for (const clause of clauses(span)) requests.push(readClause(clause, text));
  }
  fold(requests, text);
  // Statements among the requests (a pasted paragraph): list their facts in one offer to keep them.
  const stated = requests.filter((r) =>
    (r.intent === "other" || r.intent === "update") && r.facts.length > 0
  );
  if (stated.some((r) => r.intent === "other") && (stated.length >= 2 || text.length > 300)) {
    const facts = stated.flatMap((r) => r.facts);
    const offer = { ...request("facts", text.trim(), `${facts.length} statements`), facts };
    const first = requests.indexOf(stated[0]!);
    const folded = new Set(stated);
    // Requests before the first statement stay before the offer.
    let before = 0;
    const rest = requests.filter((r, i) => {
      const kept = !folded.has(r) && !(r.intent === "other" && r.facts.length === 0 && i > 0);
      if (kept && i < first) before++;
      return kept;
    });
    rest.splice(before, 0, offer);
    requests.splice(0, requests.length, ...rest);
  }
  const useful = requests.filter((r) => r.intent !== "greeting" || requests.length === 1);
  const merged = useful.length > 0 ? useful : requests;
  // "Hi! Thanks" and the like: one reply is enough.
  return merged.filter((r, i) =>
    i === 0 || r.intent !== merged[i - 1]!.intent ||
    !(r.intent === "greeting" || r.intent === "thanks" || (r.intent === "other" && r.facts.length === 0))
  );
}

/**
 * "Remember: A. B." is one request with two facts: the statements after a
 * request to remember belong to it.
 */
function fold(requests: Request[], text: string): void {
  for (let i = 1; i < requests.length; i++) {
    const prev = requests[i - 1]!;
    const cur = requests[i]!;
    const remembering = prev.intent === "remember" ||
      (prev.intent === "save_offered" && !/\b(?:those|these|them|all)\b/.test(prev.cue));
    if (!remembering || cur.intent !== "other" || cur.subject === "") continue;
    const parts = prev.parts ?? (prev.subject ? [prev.subject] : []);
    const last = parts.at(-1);
    if (cur.facts.length === 0 && last !== undefined) {
      // A line that states nothing by itself ("in room 4") goes on with the fact before it, as written.
      const from = text.lastIndexOf(last);
      const to = text.indexOf(cur.subject, from + last.length);
      parts[parts.length - 1] = from >= 0 && to >= 0
        ? text.slice(from, to + cur.subject.length)
        : `${last}\n${cur.subject}`;
    } else parts.push(cur.subject);
    requests.splice(i, 1);
    requests[i - 1] = {
      ...prev,
      intent: "remember",
      subject: parts.join("\n"),
      facts: [...prev.facts, ...cur.facts],
      parts,
    };
    i--;
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

/** Words that acknowledge, as a whole clause ("got it", "great"). */
// deno-fmt-ignore
const ACKNOWLEDGED = new Set([
  "got it", "good", "ok", "okay", "cool", "great", "much appreciated", "thank you", "thank you so much",
]);
/** The most words a request to list may have, with its tails ("… so far for this project"). */
const LIST_WORDS = 16;

function readClause(span: Span, text: string): Request {
  const { words: w, greeted, asked, thanked, closed } = strip(span.words);
  // The user's words end where a closing "please" or "thanks" starts; a trailing emoji stays.
  const last = closed ? w.at(-1) : undefined;
  const asking = asks(span, text);
  const p = phrase(w);
  const bare = p.endsWith(" please") || p.endsWith(" lantern") ? p.replace(/\s+(?:please|lantern)$/, "") : p;
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
  if (ACKNOWLEDGED.has(bare)) {
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
    const read = fact.startsWith('"') || !rest[0]
      ? [readFact(fact)].filter((f) => f !== null)
      : factsIn(span.text, within(rest, rest[0].start, fact.length));
    const kept = request("remember", fact, phrase(w.slice(0, rem)), read);
    // Facts joined by "and" are kept apart, so a later change to one leaves the other.
    return read.length > 1 ? { ...kept, parts: read.map((f) => f.text) } : kept;
  }
  // Forget: "forget (about) X", "delete the memory about X", 'forget "X"'.
  if (FORGET.has(a) && !(a === "clear" && w[1]?.norm !== "the")) {
    let i = 1;
    if (["the", "my", "your", "that", "this", "our"].includes(w[i]?.norm ?? "")) i++;
    if (MEMORY_WORDS.has(w[i]?.norm ?? "") && w.length > i + 1) i++;
    if (["about", "of", "on", "saying", "where", "with", "that", "regarding"].includes(w[i]?.norm ?? "")) i++;
    else if (w[i]?.norm === "which" && w[i + 1]?.norm === "says") i += 2;
    const rest = w.slice(i);
    let subject = tail(span, rest[0], ".!?;,:", last);
    // compromise keeps an opening quote out of the word: 'Forget "tea at 4"' starts at "tea".
    const opened = rest[0] ? span.text[rest[0].start - 1] : undefined;
    if ((opened === '"' || opened === "'") && subject.endsWith(opened)) subject = opened + subject;
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
  // Ways to ask for the list are a few words long: a long statement need not be matched against them.
  const listed = w.length <= LIST_WORDS ? bare.replace(LIST_TAIL, "") : bare;
  if (LIST.has(listed) || (w.length <= LIST_WORDS && LIST.has(listed.replace(LIST_TAIL, "")))) {
    return request("list", "", listed);
  }
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
  return stated(span, w, last, asking);
}

/** Whether the text right after a span's last word is a question mark. */
function asks(span: Span, text: string): boolean {
  const end = span.words.at(-1)!;
  if (end.post.includes("?")) return true;
  let i = end.end;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return text[i] === "?";
}

/** A plain statement of a long message: a fact, a change, or talk; no request to look for. */
function statement(span: Span, text: string): Request {
  const { words: w, closed } = strip(span.words);
  if (w.length === 0) return request("other", "", "no words");
  return stated(span, w, closed ? w.at(-1) : undefined, asks(span, text));
}

/** A statement: a fact to keep, a change to record, or just talk. */
function stated(span: Span, w: Word[], last: Word | undefined, asking: boolean): Request {
  const fact = ownFact(span, w, false, last);
  const read = !w[0] ? null : factIn(span.text, within(w, w[0].start, fact.length));
  if (read && read.changed) {
    return request("update", fact, `a change: "${read.marker || read.verb}"`, [
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
