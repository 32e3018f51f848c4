/**
 * Questions: "when is X", "tell me about X", "do you know who X is", and
 * yes/no questions ("Is the launch on June 1?") with the claim they check.
 *
 * @module
 */

import { subjectKey } from "../words.ts";
import { readFact } from "./facts.ts";
import { AUX, QUESTION_NOUNS, WH } from "./lexicon.ts";
import { is, type Word } from "./parse.ts";
import { type Span } from "./clauses.ts";
import { type Request, request } from "./requests.ts";

/**
 * Questions: "when is X", "tell me about X", "do you know who X is", "is X on Y?"; null for anything else.
 *
 * @example
 * ```ts
 * import { recallOrCheck } from "./questions.ts";
 * import { sentences } from "./parse.ts";
 * const text = "Do you know who Bob is?";
 * const [sentence] = sentences(text);
 * const r = recallOrCheck({ text, words: sentence!.words, sentence: sentence! }, sentence!.words, true);
 * console.log(r?.intent, r?.subject); // recall Bob
 * ```
 */
export function recallOrCheck(span: Span, w: Word[], asking: boolean): Request | null {
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
export function recall(span: Span, rest: Word[], cue: string): Request {
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
export function check(span: Span, rest: Word[], aux: string): Request {
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
        marker: "",
        negated: false,
      }
      : null);
  return {
    ...request("check", subject || value, `"${aux} …?"`),
    asks: "yes/no",
    ...(claim ? { claim } : {}),
  };
}
