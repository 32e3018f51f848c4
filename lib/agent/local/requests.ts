/**
 * What the reader hands the engine: one request per thing a message asks.
 *
 * @module
 */

import type { Fact } from "./facts.ts";

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

/** A request with nothing found yet but its intent, subject and cue. */
export function request(intent: IntentName, subject: string, cue: string, facts: Fact[] = []): Request {
  return { intent, subject, facts, cue };
}
