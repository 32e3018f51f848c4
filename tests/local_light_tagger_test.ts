/**
 * A long message (a pasted page of notes) is read by the light tagger for
 * its plain statements and by compromise for whatever may ask something.
 * These tests hold the two readings together: a statement in a long
 * message yields the same fact (subject, kind, value, verb, change,
 * negation) as the same statement said alone, and the requests inside a
 * long message are still found.
 */

import assert from "node:assert/strict";
import { readFact } from "../lib/agent/local/facts.ts";
import { LONG_TEXT } from "../lib/agent/local/parse.ts";
import { read } from "../lib/agent/local/reader.ts";
import { NOTES } from "./fixtures/notes.ts";

/** The shared paragraph's facts, and changes and negations, which it has none of. */
const STATEMENTS = [
  // Said alone, compromise tags "retrospective" as an adjective and finds no subject; the light tagger reads a fact.
  ...NOTES.filter((note) => !note.startsWith("The retrospective")),
  "The launch moved to May 10",
  "We moved the launch to June 2",
  "The office moved from Berlin to Lisbon",
  "Ana now leads marketing",
  "The budget isn't $5,000 anymore",
  "Bob doesn't run QA",
  "The mascot is a fox",
  "The conversion rate is 12%",
];

/** The facts a long message offers, in order. */
function offered(message: string): Record<string, unknown>[] {
  const requests = read(message);
  assert.equal(requests.length, 1, `one offer, got ${requests.map((r) => r.intent).join(", ")}`);
  assert.equal(requests[0]!.intent, "facts");
  return requests[0]!.facts.map(essence);
}

function essence(fact: object | null): Record<string, unknown> {
  if (!fact) return {};
  const { key, kind, value, verb, changed, negated } = fact as Record<string, unknown>;
  return { key, kind, value, verb, changed, negated };
}

Deno.test("a statement in a long message reads as the same fact as when it is said alone", () => {
  const message = STATEMENTS.join(". ") + ".";
  assert.ok(message.length > LONG_TEXT, "the message is long enough for the light tagger");
  const long = offered(message);
  assert.equal(long.length, STATEMENTS.length);
  for (const [i, statement] of STATEMENTS.entries()) {
    const alone = essence(readFact(statement));
    assert.ok(alone.key, `"${statement}" alone states a fact`);
    assert.deepEqual(long[i], alone, `"${statement}" in a long message`);
  }
});

Deno.test("requests inside a long message are read as when they are said alone", () => {
  const asks = [
    "When is the demo?",
    "Remember that Hugo runs support and tell me who leads design.",
    "Is the launch on June 1?",
    "Forget the mascot.",
  ];
  const message = `${STATEMENTS.slice(0, 8).join(". ")}. ${asks.join(" ")}`;
  assert.ok(message.length > LONG_TEXT);
  const brief = (
    r: { intent: string; subject: string; asks?: string },
  ) => [r.intent, r.subject, r.asks ?? ""];
  const requests = read(message);
  assert.equal(requests[0]!.intent, "facts");
  assert.deepEqual(requests.slice(1).map(brief), asks.flatMap((a) => read(a).map(brief)));
  assert.deepEqual(requests.slice(1).map((r) => r.intent), [
    "recall",
    "remember",
    "recall",
    "check",
    "forget",
  ]);
});

Deno.test("a long message split over lines keeps each line's own words", () => {
  const lines = STATEMENTS.slice(0, 12);
  const facts = read(lines.join("\n")).flatMap((r) => r.facts.map((f) => f.text));
  assert.deepEqual(facts, lines);
});

Deno.test("a plain statement of a long message is a fact even when its words could open a request", () => {
  // Said alone, "The summary of X…" reads as asking for a summary of X; in a pasted page of notes it was
  // read so too, and the page's offer lost that note to a question nobody asked.
  const notes = [
    ...STATEMENTS.slice(0, 8),
    "The summary of the budget review is attached to the email",
    "The memories of the offsite are in the shared folder",
  ];
  const requests = read(`${notes.join(". ")}.`);
  assert.deepEqual(requests.map((r) => r.intent), ["facts"]);
  assert.deepEqual(requests[0]!.facts.map((f) => f.text), notes);
});
