/**
 * Why the local engine chose each tool action, as one short sentence for a
 * person: the words of the message that chose it and what the parse found
 * in them (“moved to” reads as a change of the launch, a date: it replaces
 * “The launch is on May 3”). The agent shows it beside the action in the
 * planning, validation and execution steps.
 *
 * @module
 */

import type { PlanAction } from "../../protocol.ts";
import type { PlannedFact, PlannedRequest } from "./engine.ts";
import { shorten } from "./wording.ts";

const KINDS: Record<string, string> = {
  when: "a date",
  where: "a place",
  amount: "an amount",
  what: "a thing",
};

/** A quote of the user's words, with typographic quotes so it reads apart from the JSON beside it. */
function q(text: string, max = 60): string {
  return `“${shorten(text, max)}”`;
}

/** The words that chose an intent, as the reader noted them ("list + memories" → “list … memories”). */
function cueOf(r: PlannedRequest): string {
  const words = r.cue.replace(/^a change: /, "").replace(/ → .*$/, "").replace(/"/g, "").replace(
    / \+ /g,
    " … ",
  );
  return q(words.trim() || r.intent, 40);
}

/** “launch” (a date), “ana” (what someone does): a saved fact's subject and kind of value. */
function about(f: PlannedFact): string {
  if (!f.key) return "";
  const kind = f.kind?.startsWith("does:") ? "what someone does" : KINDS[f.kind ?? ""] ?? "a thing";
  return `${q(f.key)} (${kind})`;
}

function replacing(f: PlannedFact): string {
  return f.replaces.length === 0 ? "" : `: it replaces ${f.replaces.map((m) => q(m.text)).join(" and ")}`;
}

/**
 * One sentence per action of a request, in the order of `actions`.
 *
 * @example
 * ```ts
 * import { reasons } from "./reasons.ts";
 * const request = {
 *   intent: "update" as const, subject: "The launch moved to May 10", cue: 'a change: "moved to"',
 *   facts: [{ text: "The launch moved to May 10", key: "launch", kind: "when", replaces: [{ id: "m1", text: "The launch is on May 3" }] }],
 * };
 * const [why] = reasons(request, [{ tool: "save_memory", args: { text: "The launch moved to May 10" } }]);
 * console.log(why); // “moved to” reads as a change of “launch” (a date): it replaces “The launch is on May 3”.
 * ```
 */
export function reasons(r: PlannedRequest, actions: PlanAction[]): string[] {
  return actions.map((action, i) => {
    switch (r.intent) {
      case "remember":
      case "update": {
        const f = r.facts[i];
        if (!f) return `${cueOf(r)} asks to keep a fact.`;
        const text = typeof action.args.text === "string" ? action.args.text : f.text;
        const subject = about(f);
        if (r.intent === "update") {
          return `${cueOf(r)} reads as a change of ${subject || q(text)}${
            replacing(f) || ", which I knew nothing about, so it is kept as new"
          }.`;
        }
        const back = r.cue.includes("→ your previous message")
          ? `${cueOf(r)} refers to your previous message, which stated ${q(text)}`
          : `${cueOf(r)} asks to keep ${q(text)}`;
        return `${back}${subject ? `, about ${subject}` : ""}${replacing(f)}.`;
      }
      case "forget":
        return `${cueOf(r)} asks to forget what matches ${q(r.subject)}${r.quoted ? ", word for word" : ""}.`;
      case "list":
        return `${cueOf(r)} asks for every memory.`;
      case "count":
        return `${cueOf(r)} asks how many memories there are.`;
      case "recall":
        return `${cueOf(r)} asks ${r.asks ?? "what"} about ${
          q(r.subject)
        }, so the memories are searched for it.`;
      case "check": {
        const claim = r.claim;
        return claim
          ? `${cueOf(r)} asks whether ${q(claim.text)}: what is known about ${
            q(claim.subject)
          } is searched to answer yes or no.`
          : `${cueOf(r)} is a yes/no question about ${q(r.subject)}, so the memories are searched for it.`;
      }
      case "summarize":
        return `${cueOf(r)} asks for an overview of the project.`;
      default:
        return `${cueOf(r)} chose ${action.tool}.`;
    }
  });
}
