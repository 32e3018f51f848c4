/**
 * The local engine, conversation by conversation, as people talk to it: each
 * line is one turn (the message, then the pieces the answer must hold, in
 * order), and each conversation ends with what memory must hold. Every run
 * goes through the real agent and tools over an in-memory KV.
 *
 * A turn's expectation is a list of fragments separated by " … ", each of
 * which must appear in the answer after the one before; a fragment that
 * starts with "!" must not appear anywhere. A message that starts with "+"
 * is not sent: it adds a memory the way the page's form does (no subject,
 * like every memory saved before subjects existed).
 */

import assert from "node:assert/strict";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import { runAgent } from "../lib/agent/run_agent.ts";
import type { AgentEvent, ChatResult } from "../lib/protocol.ts";
import { createStores } from "../lib/store/mod.ts";

/** [message, expected answer fragments] */
type Turn = [string, string];
/** [name, memory afterwards (current texts, in order), ...turns] */
type Conversation = [string, string[], ...Turn[]];

/** Thirty facts in one paragraph of about 2,000 characters, as someone pastes notes. */
const NOTES = [
  "The launch is on May 3 in the main hall of the Lisbon office",
  "Ana leads the design team and reviews every screen before release",
  "Bob is the project manager and runs the weekly planning meeting",
  "The budget for the first quarter is $50,000 including contractors",
  "The standup is at 9:30 every morning in the small meeting room",
  "Carla owns the backend services and the deployment pipeline",
  "The public beta opens on April 20 for the first thousand users",
  "Dan writes the user documentation and the release notes",
  "The API freeze is on April 28 so the mobile apps can catch up",
  "Eve runs quality assurance with two testers from the Porto team",
  "The retrospective is every second Thursday after lunch",
  "The staging server is called kestrel and lives in Frankfurt",
  "Frank handles billing questions from the enterprise customers",
  "The design review is on April 15 with the whole product group",
  "Grace is the on-call engineer this week and carries the pager",
  "The press kit is due on April 30 and goes to twelve journalists",
  "Hugo manages the partner program and the reseller contracts",
  "The pricing page goes live on May 1 with the new annual plan",
  "Iris translates the app into Portuguese and Spanish this month",
  "The support inbox is watched by Jonas during European hours",
  "The code freeze starts on April 25 at six in the evening",
  "Kim plans the marketing campaign with the agency in Madrid",
  "Leo maintains the mobile app and answers its store reviews",
  "The customer advisory board meets on the first Monday monthly",
  "Mia coordinates the launch event and the catering order",
  "The brand color is teal and the logo is a small lantern",
  "Noah reviews security before each release goes out",
  "The app store listing is ready and waits for final screenshots",
  "Olga handles legal questions and signs the vendor contracts",
  "The launch party is at the lab on the evening of May 3",
  "Paula books the travel for the launch team and the speakers",
  "The newsletter goes out every Tuesday morning at eight",
];
const PARAGRAPH = NOTES.join(". ") + ".";

const TABLE: Conversation[] = [
  // --- remember, in every way people say it --------------------------------------------------------------
  ["remember that X", ["The launch is on May 3"], [
    "Remember that the launch is on May 3",
    "I'll remember: **The launch is on May 3**",
  ]],
  ["remember X, no 'that'", ["The launch is on May 3"], [
    "remember the launch is on May 3.",
    "I'll remember … The launch is on May 3",
  ]],
  ["note that", ["Bob is the PM"], ["note that Bob is the PM", "I'll remember: **Bob is the PM**"]],
  ["note with a colon", ["Bob is the PM"], ["Note: Bob is the PM", "**Bob is the PM**"]],
  ["please remember with a colon", ["Tea is at 4"], ["Please remember: tea is at 4.", "**Tea is at 4**"]],
  ["don't forget", ["The demo is on Friday"], [
    "Don't forget that the demo is on Friday",
    "**The demo is on Friday**",
  ]],
  ["dont forget without apostrophe", ["The demo is Friday"], [
    "Dont forget the demo is Friday!",
    "**The demo is Friday**",
  ]],
  ["typographic apostrophe kept", ["Jo\u2019s desk moved"], [
    "Don\u2019t forget that Jo\u2019s desk moved",
    "Jo\u2019s desk moved",
  ]],
  ["hey, remember", ["X is y"], ["Hey, remember that x is y", "I'll remember"]],
  ["could you note … please", ["The budget is 5k"], [
    "Could you note that the budget is 5k, please",
    "**The budget is 5k** … !please",
  ]],
  ["can you remember …?", ["The launch is on May 3"], [
    "Can you remember that the launch is on May 3?",
    "**The launch is on May 3** … !?**",
  ]],
  ["I need you to remember", ["The code is 1234"], [
    "I need you to remember that the code is 1234",
    "**The code is 1234**",
  ]],
  ["I'd like you to note", ["The office is in Lisbon"], [
    "I'd like you to note that the office is in Lisbon",
    "**The office is in Lisbon**",
  ]],
  ["keep in mind", ["Alice is on leave"], ["Keep in mind that Alice is on leave", "**Alice is on leave**"]],
  ["note to self", ["Buy milk"], ["Note to self: buy milk", "**Buy milk**"]],
  ["save:", ["The wifi password is on the fridge"], [
    "Save: the wifi password is on the fridge",
    "**The wifi password is on the fridge**",
  ]],
  ["remember that, newline", ["The launch is on May 3"], [
    "Remember that:\nthe launch is on May 3",
    "**The launch is on May 3**",
  ]],
  ["jot down", ["The vendor is Acme"], ["Jot down that the vendor is Acme", "**The vendor is Acme**"]],
  ["make a note of", ["The retro is on Thursday"], [
    "Make a note that the retro is on Thursday",
    "**The retro is on Thursday**",
  ]],
  ["memorize", ["The door code is 4455"], [
    "Memorize this: the door code is 4455",
    "**The door code is 4455**",
  ]],
  ["leading emoji (issue 16)", ["The mascot is 🦊"], [
    "🚀 Remember that the mascot is 🦊",
    "I'll remember: **The mascot is 🦊** … !Remember that 🚀",
  ]],
  ["emoji on both ends", ["The demo is on Friday"], [
    "✨ remember that the demo is on Friday ✨",
    "**The demo is on Friday",
  ]],
  ["shouting", ["THE DEMO IS ON FRIDAY"], ["REMEMBER THAT THE DEMO IS ON FRIDAY", "I'll remember"]],
  ["quoted fact", ["The beta flag stays on"], ['Remember "The beta flag stays on"', "I'll remember"]],
  ["extra words around", ["The launch is on May 3"], [
    "ok so please remember that the launch is on May 3, thanks",
    "**The launch is on May 3**",
  ]],
  ["iPhone keeps its case", ["iPhone app ships in June"], [
    "Hey, can you remember that iPhone app ships in June?",
    "**iPhone app ships in June**",
  ]],
  ["the same fact twice", ["The launch is on May 3"], [
    "Remember that the launch is on May 3",
    "I'll remember",
  ], ["remember the launch is on May 3.", "I already remember that: **The launch is on May 3**"]],
  ["remember with nothing", [], ["remember", "What should I remember?"]],
  ["remember that, nothing before", [], ["Remember that", "What should I remember?"]],
  ["please note.", [], ["Please note.", "What should I remember?"]],
  ["two facts in one remember", ["The launch is on May 3", "Ana leads design"], [
    "Remember: the launch is on May 3. Ana leads design.",
    "these 2 … The launch is on May 3 … Ana leads design",
  ]],
  ["too long to keep", [], [
    `Remember that ${"very ".repeat(500)}long`,
    "too long to remember as one fact (2,504 characters; the limit is 2,000)",
  ]],

  // --- recall: what / when / who / where / how many / which ----------------------------------------------
  ["when is", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "When is the launch?",
    "From what you told me: **The launch is on May 3**",
  ]],
  ["when's", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "When's the launch?",
    "**The launch is on May 3**",
  ]],
  ["what is the date", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "What is the launch date?",
    "**The launch is on May 3**",
  ]],
  ["what's, typographic", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "What\u2019s the date of the launch?",
    "**The launch is on May 3**",
  ]],
  ["who leads", ["Ana leads the design team"], ["+Ana leads the design team", ""], [
    "Who leads design?",
    "**Ana leads the design team**",
  ]],
  ["who is in charge of (issue 16)", ["Ana leads design"], [
    "Remember that Ana leads design",
    "I'll remember",
  ], ["Who is in charge of design?", "**Ana leads design**"]],
  ["who is X", ["Ana leads the design team"], ["+Ana leads the design team", ""], [
    "Who is Ana?",
    "**Ana leads the design team**",
  ]],
  ["where is", ["The office is in Lisbon"], ["Remember the office is in Lisbon", ""], [
    "Where is the office?",
    "**The office is in Lisbon**",
  ]],
  ["what time is", ["The standup moved to 9:30"], ["+The standup moved to 9:30", ""], [
    "What time is the standup?",
    "**The standup moved to 9:30**",
  ]],
  ["do you remember when", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Do you remember when the launch is?",
    "**The launch is on May 3**",
  ]],
  ["do you know who", ["Bob is the PM"], ["+Bob is the PM", ""], [
    "Do you know who Bob is?",
    "**Bob is the PM**",
  ]],
  ["tell me about", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Tell me about the launch",
    "**The launch is on May 3**",
  ]],
  ["what did I tell you about", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "What did I tell you about the launch?",
    "**The launch is on May 3**",
  ]],
  ["remind me when", ["The standup moved to 9:30"], ["+The standup moved to 9:30", ""], [
    "Remind me when the standup is",
    "**The standup moved to 9:30**",
  ]],
  ["remember when …?", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Remember when the launch is?",
    "**The launch is on May 3**",
  ]],
  ["what about", ["The budget is 5k"], ["+The budget is 5k", ""], [
    "What about the budget?",
    "**The budget is 5k**",
  ]],
  ["summary of a topic", ["The budget is 5k"], ["+The budget is 5k", ""], [
    "Summary of the budget",
    "**The budget is 5k**",
  ]],
  ["hi, then a question", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Hi! What is the launch date?",
    "**The launch is on May 3** … !Hello",
  ]],
  [
    "what do you know about, several",
    ["The launch is on May 3", "Bob bakes bread", "The launch party is at the lab"],
    ["+The launch is on May 3", ""],
    ["+Bob bakes bread", ""],
    ["+The launch party is at the lab", ""],
    [
      "What do you know about the launch party?",
      "Here is what I know … The launch party is at the lab … The launch is on May 3 … !Bob",
    ],
  ],
  ["which", ["The staging server is called kestrel"], ["Remember the staging server is called kestrel", ""], [
    "Which server is staging?",
    "kestrel",
  ]],
  ["how many, from a fact", ["The team has 7 engineers"], ["Remember that the team has 7 engineers", ""], [
    "How many engineers are on the team?",
    "7 engineers",
  ]],
  ["how much", ["The budget is $50,000"], ["Remember that the budget is $50,000", ""], [
    "How much is the budget?",
    "$50,000",
  ]],
  ["emoji around a question", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "🤔 when is the launch??",
    "**The launch is on May 3**",
  ]],
  ["lower case, no question mark", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "when is the launch",
    "**The launch is on May 3**",
  ]],
  ["unknown, empty project", [], [
    "What's the budget?",
    'I don\'t know anything about "the budget": nothing has been saved in this project yet.',
  ]],
  ["unknown, one memory", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "What's the budget?",
    "my one memory doesn't mention it",
  ]],
  [
    "unknown, several memories",
    ["The launch is on May 3", "Ana leads design"],
    ["+The launch is on May 3", ""],
    ["+Ana leads design", ""],
    ["Who handles billing?", "none of my 2 memories mention it"],
  ],
  ["a question about nothing", [], ["what is it?", "What would you like to know?"]],
  ["what do you know about (nothing)", [], ["what do you know about", "What would you like to know?"]],
  ["legacy memory, no subject, still found", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "when's the launch",
    "**The launch is on May 3**",
  ]],

  // --- yes/no questions ------------------------------------------------------------------------------------
  ["yes/no: no, with what is known (issue 16)", ["The launch is on May 3"], [
    "Remember that the launch is on May 3",
    "",
  ], ["Is the launch on June 1?", "No. From what you told me: **The launch is on May 3** … !I don't know"]],
  ["yes/no: yes", ["The launch is on May 3"], ["Remember that the launch is on May 3", ""], [
    "Is the launch on May 3?",
    "Yes. From what you told me: **The launch is on May 3**",
  ]],
  [
    "yes/no: yes, other date format",
    ["The launch is on May 3"],
    ["Remember that the launch is on May 3", ""],
    ["is the launch on 3 May?", "Yes."],
  ],
  ["yes/no: yes, month only", ["The launch is on May 3"], ["Remember that the launch is on May 3", ""], [
    "Is the launch in May?",
    "Yes.",
  ]],
  ["yes/no: unknown subject", ["The launch is on May 3"], ["Remember that the launch is on May 3", ""], [
    "Is the budget 5k?",
    "I don't know anything about",
  ]],
  ["yes/no: empty project", [], ["Is the launch on June 1?", "I don't know anything about"]],
  ["yes/no on a legacy memory", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Is the launch on June 1?",
    "No. … May 3",
  ]],
  ["yes/no: who", ["Bob is the PM"], ["Remember that Bob is the PM", ""], ["Is Bob the PM?", "Yes."]],
  ["yes/no: who, no", ["Bob is the PM"], ["Remember that Bob is the PM", ""], [
    "Is Bob the designer?",
    "No. … Bob is the PM",
  ]],
  ["yes/no: does someone do", ["Ana leads design"], ["Remember that Ana leads design", ""], [
    "Does Ana lead design?",
    "Yes.",
  ]],
  ["yes/no: does, not known", ["Ana leads design"], ["Remember that Ana leads design", ""], [
    "Does Ana lead marketing?",
    "Not as far as I know … Ana leads design",
  ]],
  ["yes/no: where", ["The office is in Lisbon"], ["Remember that the office is in Lisbon", ""], [
    "Is the office in Berlin?",
    "No. … Lisbon",
  ]],
  ["yes/no: amount", ["The budget is $50,000"], ["Remember that the budget is $50,000", ""], [
    "Is the budget $50,000?",
    "Yes.",
  ]],
  ["yes/no: after a move", ["The launch moved to May 10"], ["Remember that the launch is on May 3", ""], [
    "The launch moved to May 10",
    "now on May 10",
  ], ["Is the launch on May 3?", "No. … May 10 … !Yes"]],
  ["yes/no with emoji", ["The launch is on May 3"], ["Remember that the launch is on May 3", ""], [
    "🚀 is the launch on May 3? 🙏",
    "Yes.",
  ]],

  // --- facts that change -----------------------------------------------------------------------------------
  ["moved to (issue 16)", ["The launch moved to May 10"], ["Remember that the launch is on May 3", ""], [
    "The launch moved to May 10",
    "The launch is now on May 10 (it was May 3)",
  ], ["When is the launch?", "May 10 … !May 3"]],
  ["actually X is Y", ["Actually the budget is $6,000"], ["Remember that the budget is $5,000", ""], [
    "Actually the budget is $6,000.",
    "now $6,000 (it was $5,000)",
  ]],
  ["X is now Y", ["The standup is now at 10:00"], ["Remember that the standup is at 9:30", ""], [
    "The standup is now at 10:00",
    "The standup is now at 10:00 (it was 9:30)",
  ]],
  [
    "office moved",
    ["The office moved from Berlin to Lisbon"],
    ["Remember that the office is in Berlin", ""],
    ["The office moved from Berlin to Lisbon", "now … Lisbon (it was Berlin)"],
    ["Where is the office?", "Lisbon"],
  ],
  ["remember a new date replaces the old", ["The launch is on May 10"], [
    "Remember that the launch is on May 3",
    "",
  ], ["Remember that the launch is on May 10", "The launch is now on May 10 (it was May 3)"]],
  ["a change with no earlier fact is kept", ["The launch moved to May 10"], [
    "The launch moved to May 10",
    "I'll remember: **The launch moved to May 10**",
  ]],
  ["a change of a legacy memory", ["The launch moved to May 10"], ["+The launch is on May 3", ""], [
    "The launch moved to May 10",
    "(it was May 3)",
  ]],
  [
    "two changes in a row",
    ["The launch is now on May 17"],
    ["Remember that the launch is on May 3", ""],
    ["The launch moved to May 10", "(it was May 3)"],
    ["The launch is now on May 17", "(it was May 10)"],
    ["When is the launch?", "May 17 … !May 10"],
  ],
  ["different things about one subject stay", ["The team is in Lisbon", "The team has 7 engineers"], [
    "Remember that the team is in Lisbon",
    "",
  ], ["Remember that the team has 7 engineers", "I'll remember"]],
  ["two people, two facts", ["Ana leads design", "Bob leads marketing"], [
    "Remember that Ana leads design",
    "",
  ], ["Remember that Bob leads marketing", "I'll remember: **Bob leads marketing**"]],
  ["someone does two things", ["Ana leads design", "Ana writes the docs"], [
    "Remember that Ana leads design",
    "",
  ], ["Remember that Ana writes the docs", "I'll remember"]],
  ["now with a person", ["Ana now leads marketing"], ["Remember that Ana leads design", ""], [
    "Ana now leads marketing",
    "Ana now leads marketing (before: Ana leads design)",
  ]],
  ["update then list", ["The launch moved to May 10"], ["Remember that the launch is on May 3", ""], [
    "The launch moved to May 10",
    "",
  ], ["What do you remember?", "(1 memory) … The launch moved to May 10 … !May 3"]],
  [
    "forget after a change forgets it all",
    [],
    ["Remember that the launch is on May 3", ""],
    ["The launch moved to May 10", ""],
    ["Forget the launch", "I forgot this … May 10"],
    ["When is the launch?", "I don't know anything about"],
  ],
  ["the same value again is not a change", ["The launch is on May 3"], [
    "Remember that the launch is on May 3",
    "",
  ], ["Remember the launch is on May 3", "I already remember that"]],
  ["update with emoji and quotes", ["The launch moved to May 10"], [
    "Remember that the launch is on May 3",
    "",
  ], ['📅 "The launch moved to May 10"', "The launch is now on May 10 (it was May 3)"]],

  // --- forget ----------------------------------------------------------------------------------------------
  ["forget X", ["Bob bakes bread"], ["+The launch is on May 3", ""], ["+Bob bakes bread", ""], [
    "Please forget about the launch.",
    "Done. I forgot this:\n\n- The launch is on May 3",
  ]],
  ["forget X twice", ["Bob bakes bread"], ["+The launch is on May 3", ""], ["+Bob bakes bread", ""], [
    "forget the launch",
    "I forgot",
  ], ["forget the launch", 'I don\'t have anything about "launch" to forget, so nothing changed.']],
  ["delete the memory about (issue 16)", [], ["Remember that the launch is on May 3", ""], [
    "Delete the memory about the launch",
    "I forgot this … The launch is on May 3",
  ]],
  ["remove the note saying", [], ["+Tea is at 4", ""], [
    "Remove the note saying tea is at 4",
    "I forgot this … Tea is at 4",
  ]],
  ["forget by quote", ["The launch is on May 3"], ["+The launch is on May 3", ""], ["+Tea is at 4", ""], [
    'Forget "Tea is at 4"',
    "I forgot this … Tea is at 4",
  ]],
  ["forget that …", ["Tea is at 4"], ["+Bob is the PM", ""], ["+Tea is at 4", ""], [
    "Please forget that Bob is the PM",
    "I forgot this … Bob is the PM",
  ]],
  ["forget everything", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Forget everything",
    "I only forget what you name, so nothing was deleted.",
  ]],
  ["forget alone", [], ["forget", "What should I forget?"]],
  ["forget it", [], ["forget it", "What should I forget?"]],
  ["forget in an empty project", [], [
    "Forget the launch",
    "I don't remember anything in this project yet, so there was nothing to forget.",
  ]],
  ["forget with emoji", ["Bob bakes bread"], ["+The launch is on May 3", ""], ["+Bob bakes bread", ""], [
    "🗑️ forget the launch!!",
    "I forgot this … The launch is on May 3",
  ]],
  ["erase", [], ["+The wifi password is on the fridge", ""], ["Erase the wifi password", "I forgot this"]],

  // --- list and count --------------------------------------------------------------------------------------
  ["list, empty", [], [
    "list memories",
    'I don\'t remember anything in this project yet. Tell me something with "Remember that …".',
  ]],
  ["what do you remember", ["The launch is on May 3", "Bob bakes bread"], ["+The launch is on May 3", ""], [
    "+Bob bakes bread",
    "",
  ], [
    "What do you remember?",
    "Here is what I remember (2 memories):\n\n- The launch is on May 3\n- Bob bakes bread",
  ]],
  ["show me all your memories", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Show me all your memories",
    "(1 memory)",
  ]],
  ["what's in your memory", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "what's in your memory?",
    "(1 memory)",
  ]],
  ["what do you know", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "what do you know?",
    "(1 memory)",
  ]],
  ["list all memories", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "List all memories",
    "(1 memory)",
  ]],
  ["please list what you remember", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Please list what you remember",
    "(1 memory)",
  ]],
  ["what have you remembered so far", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "what have you remembered so far?",
    "(1 memory)",
  ]],
  ["memories", ["The launch is on May 3"], ["+The launch is on May 3", ""], ["memories", "(1 memory)"]],
  ["list with emoji", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "📋 list memories",
    "(1 memory)",
  ]],
  ["how many memories", ["The launch is on May 3", "Bob bakes bread"], ["+The launch is on May 3", ""], [
    "+Bob bakes bread",
    "",
  ], ["How many memories do you have?", "I remember 2 facts in this project."]],
  ["how many, one", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "how many facts do you remember?",
    "I remember 1 fact in this project.",
  ]],
  ["how many, none", [], ["How many notes do you have?", "I don't remember anything in this project yet."]],
  ["list after forgetting says no 'yet'", [], ["Remember that tea is at 4", ""], ["Forget tea", "I forgot"], [
    "What do you remember?",
    "I don't remember anything in this project right now. … !yet",
  ]],

  // --- summarize -------------------------------------------------------------------------------------------
  ["summarize the project", ["The launch is on May 3"], ["Remember that the launch is on May 3", ""], [
    "When is the launch?",
    "",
  ], [
    "Summarize the project",
    "## Project … **What I remember** (1 memory) … **Conversation:** 5 messages so far, 3 from you. … **Recently you asked:**",
  ]],
  ["summarize, alone", [], ["summarize", "## Project … this is the first message"]],
  ["can you summarize", [], ["Can you summarize?", "## Project"]],
  ["give me a summary", [], ["Give me a summary", "## Project"]],
  ["catch me up", [], ["Catch me up", "## Project"]],
  ["project status?", [], ["project status?", "## Project"]],
  ["how is the project going", [], ["How is the project going?", "## Project"]],
  ["recap", [], ["Recap", "## Project"]],
  ["where are we", [], ["Where are we?", "## Project"]],
  ["summarize after a forget says no 'yet' (issue 16)", [], ["Remember that the launch is on May 3", ""], [
    "Forget the launch",
    "I forgot",
  ], ["Summarize the project", "I don't remember anything in this project right now. … !yet"]],

  // --- greetings, thanks, help, other ----------------------------------------------------------------------
  ["hi", [], ["hi", "Hello! … I can: … **Remember**"]],
  ["hello there", [], ["Hello there!", "Hello!"]],
  ["good morning", [], ["Good morning", "Hello!"]],
  ["how are you", [], ["how are you?", "Hello!"]],
  ["hey with emoji", [], ["👋 hey!", "Hello!"]],
  ["thanks", [], ["Thanks!", "You're welcome!"]],
  ["thank you so much", [], ["thank you so much", "You're welcome!"]],
  ["cheers", [], ["cheers 🙏", "You're welcome!"]],
  ["help", [], ["help", "I can: … **Forget**"]],
  ["what can you do", [], ["What can you do?", "I can:"]],
  ["who are you", [], ["Who are you?", "I'm Lantern's local assistant"]],
  ["how does this work", [], ["How does this work?", "I can:"]],
  ["a question mark alone", [], ["?", "I can:"]],
  ["a poem", [], [
    "Write me a poem about the sea",
    "I can't do that: I'm Lantern's local assistant … I can:",
  ]],
  ["a statement gets an offer", [], [
    "The budget is 5k.",
    'If you want me to keep that, say: "Remember that the budget is 5k". … !I can\'t',
  ]],
  ["remembering is hard", [], ["Remembering names is hard", "!I'll remember"]],
  ["hikers forget water", [], ["Hikers forget water", "!I forgot"]],
  ["an empty message", [], ["   ", "I can't do that"]],

  // --- several requests in one message ---------------------------------------------------------------------
  ["remember and ask (issue 16)", ["The launch is on May 3", "Ana leads design"], [
    "+The launch is on May 3",
    "",
  ], [
    "Remember that Ana leads design and tell me when the launch is",
    "I'll remember: **Ana leads design** … **The launch is on May 3**",
  ]],
  ["two questions", ["The launch is on May 3", "Bob is the PM"], ["+The launch is on May 3", ""], [
    "+Bob is the PM",
    "",
  ], ["When is the launch? Who is Bob?", "The launch is on May 3 … Bob is the PM"]],
  ["remember then forget", ["Ana leads design"], ["+Tea is at 4", ""], [
    "Remember that Ana leads design, then forget tea",
    "I'll remember … I forgot this … Tea is at 4",
  ]],
  ["forget and list", ["Bob bakes bread"], ["+Tea is at 4", ""], ["+Bob bakes bread", ""], [
    "Forget tea and list memories",
    "I forgot … (1 memory) … Bob bakes bread",
  ]],
  ["hi and remember", ["The demo is on Friday"], [
    "Hi! Remember that the demo is on Friday",
    "I'll remember … !Hello",
  ]],
  ["remember two things with and", ["The demo is on Friday", "The retro is on Monday"], [
    "Remember that the demo is on Friday and remember that the retro is on Monday",
    "The demo is on Friday … The retro is on Monday",
  ]],
  ["a name with and is one fact", ["Ana and Bob lead design"], [
    "Remember that Ana and Bob lead design",
    "I'll remember: **Ana and Bob lead design**",
  ]],
  [
    "yes/no and remember",
    ["The launch is on May 3", "The venue is the lab"],
    ["+The launch is on May 3", ""],
    [
      "Is the launch on May 3? Remember that the venue is the lab",
      "Yes. … I'll remember: **The venue is the lab**",
    ],
  ],
  ["thanks and a question", ["The launch is on May 3"], ["+The launch is on May 3", ""], [
    "Thanks! When is the launch?",
    "You're welcome! … The launch is on May 3",
  ]],

  // --- long input ------------------------------------------------------------------------------------------
  ["a paragraph of facts is offered, then kept (issue 16)", NOTES, [
    PARAGRAPH,
    'I found 32 facts in your message: … - The launch is on May 3 in the main hall of the Lisbon office … Say "remember those" … !I can\'t do that',
  ], ["remember those", "Got it. I'll remember these 32: … Ana leads the design team"]],
  ["three statements are offered", [], [
    "The launch is on May 3. Ana leads design. Bob is the PM.",
    "I found 3 facts in your message: … Shall I remember them?",
  ]],
  ["offer then 'yes, save them'", ["The launch is on May 3", "Ana leads design"], [
    "The launch is on May 3. Ana leads design.",
    "I found 2 facts",
  ], ["yes, save them", "these 2"]],
  ["offer then 'remember all of that'", ["The launch is on May 3", "Ana leads design"], [
    "The launch is on May 3. Ana leads design.",
    "",
  ], ["remember all of that", "these 2"]],
  ["one statement, then 'remember that'", ["The budget is 5k"], [
    "The budget is 5k.",
    "If you want me to keep that",
  ], ["remember that", "I'll remember: **The budget is 5k**"]],
  ["remember those with nothing before", [], ["remember those", "What should I remember?"]],
  ["a long single statement is offered", [], [
    `The plan ${"and the plan ".repeat(30)}is fine.`,
    "I found 1 fact … Shall I remember it?",
  ]],
];

async function converse(turns: Turn[]): Promise<{ answers: ChatResult[]; memory: string[] }> {
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = createStores(kv);
    const project = await stores.projects.create("Project");
    const engine = new LocalEngine();
    const answers: ChatResult[] = [];
    let n = 0;
    for (const [message, expected] of turns) {
      if (message.startsWith("+")) {
        await stores.memories.add(project.id, { text: message.slice(1), source: "user" });
        continue;
      }
      const runId = `run-${++n}`;
      const userMessage = await stores.messages.add(project.id, { role: "user", content: message, runId });
      const events: AgentEvent[] = [];
      for await (
        const e of runAgent({
          runId,
          project,
          userMessage,
          stores,
          engine,
          signal: new AbortController().signal,
        })
      ) events.push(e);
      const last = events.at(-1);
      assert.equal(last?.type, "result", `"${message}" ended with ${JSON.stringify(last)}`);
      const result = (last as { result: ChatResult }).result;
      answers.push(result);
      expect(message, result.message, expected);
    }
    return { answers, memory: (await stores.memories.list(project.id)).map((m) => m.text) };
  } finally {
    kv.close();
  }
}

/** Checks an answer against " … "-separated fragments, in order; "!x" must not appear. */
function expect(message: string, answer: string, expected: string): void {
  let from = 0;
  for (const part of expected.split(" … ").filter((p) => p !== "")) {
    if (part.startsWith("!")) {
      assert.ok(
        !answer.includes(part.slice(1)),
        `"${message}": the answer has "${part.slice(1)}":\n${answer}`,
      );
      continue;
    }
    const at = answer.indexOf(part, from);
    assert.ok(
      at >= 0,
      `"${message}": expected "${part}" in the answer${from ? " after what came before" : ""}:\n${answer}`,
    );
    from = at + part.length;
  }
}

Deno.test("the table holds at least 150 conversations, and the paragraph is about 2,000 characters", () => {
  assert.ok(TABLE.length >= 150, `only ${TABLE.length} conversations`);
  assert.ok(
    PARAGRAPH.length >= 1900 && PARAGRAPH.length <= 2100,
    `the paragraph has ${PARAGRAPH.length} characters`,
  );
});

for (const [name, memory, ...turns] of TABLE) {
  Deno.test(`conversation: ${name}`, async () => {
    const result = await converse(turns);
    assert.deepEqual(result.memory, memory, `memory after "${name}"`);
  });
}
