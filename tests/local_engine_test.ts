/**
 * The local engine's understanding: which intent and subject it reads from
 * everyday phrasings, and the word matching it answers questions with.
 */

import assert from "node:assert/strict";
import type { Intent } from "../lib/agent/local_engine.ts";
import { classify } from "../lib/agent/local/reader.ts";
import { keywords, overlap } from "../lib/agent/words.ts";

function check(cases: [string, Intent["name"], string][]): void {
  for (const [message, name, subject] of cases) {
    assert.deepEqual(classify(message), { name, subject }, message);
  }
}

Deno.test("remember: 'remember (that) X', 'note that X' and their natural variants", () => {
  check([
    ["remember that the launch is on May 3", "remember", "the launch is on May 3"],
    ["Remember the launch is on May 3.", "remember", "the launch is on May 3"],
    ["note that Bob is the PM", "remember", "Bob is the PM"],
    ["Note: Bob is the PM", "remember", "Bob is the PM"],
    ["Please remember: tea at 4", "remember", "tea at 4"],
    ["Don't forget that the demo is Friday", "remember", "the demo is Friday"],
    ["Dont forget the demo is Friday!", "remember", "the demo is Friday"],
    // Phones type a typographic apostrophe; the fact keeps the user's characters.
    ["Don\u2019t forget that Jo\u2019s desk moved", "remember", "Jo\u2019s desk moved"],
    ["Hey, remember that x is y", "remember", "x is y"],
    ["Could you note that the budget is 5k, please", "remember", "the budget is 5k"],
    ["Can you remember that the launch is on May 3?", "remember", "the launch is on May 3"],
    ["I need you to remember that the code is 1234", "remember", "the code is 1234"],
    ["Keep in mind that Alice is on leave", "remember", "Alice is on leave"],
    ["Note to self: buy milk", "remember", "buy milk"],
    ["Save: the wifi password is on the fridge", "remember", "the wifi password is on the fridge"],
    ["Remember that:\nthe launch is on May 3", "remember", "the launch is on May 3"],
    ["remember", "remember", ""],
    ["Remember that", "remember", ""],
    ["Please note.", "remember", ""],
  ]);
});

Deno.test("recall: 'what/when/who is X', 'what do you know about X', 'tell me about X' and more", () => {
  check([
    ["what do you know about the launch?", "recall", "the launch"],
    ["What is the launch date?", "recall", "the launch date"],
    ["when is the launch", "recall", "the launch"],
    ["When's the launch?", "recall", "the launch"],
    ["What\u2019s the launch date?", "recall", "the launch date"],
    ["who is Bob?", "recall", "Bob"],
    ["Who's Bob?", "recall", "Bob"],
    ["Where is the office?", "recall", "the office"],
    ["What time is the standup?", "recall", "the standup time"],
    ["Tell me about the launch", "recall", "the launch"],
    ["Do you remember when the launch is?", "recall", "the launch"],
    ["Do you know who Bob is?", "recall", "Bob"],
    ["What did I tell you about the launch?", "recall", "the launch"],
    ["remind me when the launch is", "recall", "the launch"],
    ["Remember when the launch is?", "recall", "the launch"],
    // A yes/no question is checked against what is known about its subject.
    ["Is the launch on May 3?", "check", "the launch"],
    ["What about the budget?", "recall", "the budget"],
    ["Summary of the budget", "recall", "the budget"],
    ["Hi! What is the launch date?", "recall", "the launch date"],
    ["What is the summary deadline?", "recall", "the summary deadline"],
    // A question with nothing to look up is asked back, not searched.
    ["what is it?", "recall", ""],
    ["what do you know about", "recall", ""],
  ]);
});

Deno.test("forget: 'forget X' and variants; 'forget' alone has no subject", () => {
  check([
    ["forget the launch", "forget", "launch"],
    ["Forget about the launch.", "forget", "the launch"],
    ["Please forget that Bob is the PM", "forget", "Bob is the PM"],
    ["delete the memory about the launch", "forget", "the launch"],
    ["Remove the note saying tea is at 4", "forget", "tea is at 4"],
    ["forget it", "forget", ""],
    ["forget", "forget", ""],
    ["Forget everything", "forget", "everything"],
  ]);
});

Deno.test("list, summarize, greetings, thanks and help", () => {
  check([
    ["list memories", "list", ""],
    ["List all memories", "list", ""],
    ["show me your memories", "list", ""],
    ["Please list what you remember", "list", ""],
    ["what do you remember", "list", ""],
    ["What do you remember?", "list", ""],
    ["what do you know?", "list", ""],
    ["What's in your memory?", "list", ""],
    ["what have you remembered so far?", "list", ""],
    ["memories", "list", ""],
    ["summarize", "summarize", ""],
    ["Summarize the project", "summarize", ""],
    ["Can you summarize?", "summarize", ""],
    ["Give me a summary", "summarize", ""],
    ["Catch me up", "summarize", ""],
    ["project status?", "summarize", ""],
    ["How is the project going?", "summarize", ""],
    ["hi", "greeting", ""],
    ["Hello there!", "greeting", ""],
    ["Good morning", "greeting", ""],
    ["how are you?", "greeting", ""],
    ["Thanks!", "thanks", ""],
    ["thank you so much", "thanks", ""],
    ["help", "help", ""],
    ["What can you do?", "help", ""],
    ["Who are you?", "help", ""],
    ["How does this work?", "help", ""],
  ]);
});

Deno.test("anything else is 'other', with the whole message as its subject", () => {
  check([
    ["Write me a poem", "other", "Write me a poem"],
    ["the launch is on May 3", "other", "the launch is on May 3"],
    ["Remembering names is hard", "other", "Remembering names is hard"],
    ["Hikers forget water", "other", "Hikers forget water"],
    ["", "other", ""],
    ["   ", "other", ""],
  ]);
});

Deno.test("keywords(): lower case, accents and common words dropped, suffixes folded", () => {
  assert.deepEqual(keywords("When are the launch meetings?"), ["launch", "meet"]);
  // Porter stems: "May" and "may" alike become "mai".
  assert.deepEqual(keywords("The launch is on May 3"), ["launch", "mai", "3"]);
  // Every form of a word folds to one stem.
  for (
    const forms of [
      ["meeting", "meetings", "meet", "meets"],
      ["launch", "launches", "launched", "launching"],
      ["plan", "plans", "planned", "planning"],
      ["move", "moved", "moving", "moves"],
      ["party", "parties"],
      ["box", "boxes"],
      ["date", "dates", "dated"],
    ]
  ) {
    const stems = new Set(forms.flatMap((f) => keywords(f)));
    assert.equal(stems.size, 1, `${forms.join(", ")} fold to ${[...stems].join(", ")}`);
  }
  // Words that only look like a suffix keep their stem.
  assert.deepEqual(keywords("class status bring need egg eggs"), ["class", "statu", "bring", "need", "egg"]);
  assert.deepEqual(keywords("Café CAFE cafe"), keywords("cafe"));
  assert.deepEqual(keywords("What's the...?"), []);
  assert.deepEqual(keywords("Bob's 2nd plan, Bob's"), ["bob", "2nd", "plan"]);
});

Deno.test("overlap(): the share of the query's words in a memory; vague words never count against it", () => {
  const launch = "The launch is on May 3";
  assert.equal(overlap("the launch date", launch), 1);
  assert.equal(overlap("when is the launch", launch), 1);
  assert.equal(overlap("the date of the launch", launch), 1);
  assert.equal(overlap("the launch budget", launch), 0.5);
  assert.equal(overlap("the budget", launch), 0);
  // A vague word counts when the memory has it.
  assert.equal(overlap("launch date", "The launch date moved to May 10"), 1);
  assert.equal(overlap("the date", launch), 0);
  assert.equal(overlap("the date", "The date is set"), 1);
  assert.equal(overlap("", launch), 0);
  assert.equal(overlap("what is it", launch), 0);
  assert.equal(overlap("launched", "We launch on Monday"), 1);
});
