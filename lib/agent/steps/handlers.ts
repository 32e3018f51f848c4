/**
 * The work of each of the agent's eight steps: loading the context, asking
 * the engine to analyze and plan, validating the plan, running its tools one
 * by one, reporting the memory, and streaming the answer. `runAgent`
 * (run_agent.ts) calls them in the order of lib/steps.ts.
 *
 * @example
 * ```ts
 * import { HANDLERS } from "./handlers.ts";
 * console.log(Object.keys(HANDLERS).length); // 8
 * ```
 *
 * @module
 */

import type { ActionResult } from "../../protocol.ts";
import { PROTOCOL_VERSION } from "../../protocol.ts";
import { plural } from "../../plural.ts";
import type { StepName } from "../../steps.ts";
import { runTool, validatePlan } from "../tools.ts";
import { describePlan, describeProblems, withWhy } from "./plan_text.ts";
import { answerCutNotice, BoundExceeded, fitAnswer } from "../../store/bounds.ts";
import {
  type AgentStores,
  isAbort,
  notes,
  progress,
  since,
  StepError,
  type StepHandler,
  usageOf,
} from "./state.ts";
import type { RecentContext } from "../../store/recent_context.ts";

/** How many earlier messages the context step loads. */
export const HISTORY_LIMIT = 40;

/** The context step's reads without a {@linkcode AgentStores.context}: both lists. */
async function listContext(stores: AgentStores, projectId: string): Promise<RecentContext> {
  const [messages, memories] = await Promise.all([
    stores.messages.list(projectId, HISTORY_LIMIT + 1),
    stores.memories.list(projectId),
  ]);
  return { messages, memories };
}

/** The work of each step; the order comes from lib/steps.ts. */
export const HANDLERS: Record<StepName, StepHandler> = {
  start: {
    opening: ({ input: { engine } }) => ({
      details: `Engine: ${engine.name} (${engine.model}).`,
      metadata: { engine: engine.name, model: engine.model, protocol: PROTOCOL_VERSION },
    }),
    // deno-lint-ignore require-await
    async run({ input: { userMessage } }) {
      return {
        message: "Message received",
        details: userMessage.content.slice(0, 200),
        metadata: { messageId: userMessage.id, characters: userMessage.content.length },
      };
    },
  },
  context: {
    async run(state) {
      const { runId, project, userMessage, stores, signal } = state.input;
      const { messages: recent, memories } = stores.context
        ? await stores.context.read(project.id, HISTORY_LIMIT + 1)
        : await listContext(stores, project.id);
      const history = recent.filter((m) => m.id !== userMessage.id && m.runId !== runId);
      state.ctx = {
        runId,
        project,
        message: userMessage.content,
        history,
        memories,
        signal,
        usage: state.usage,
        ...(stores.bounds ? { maxMemoryChars: stores.bounds.maxMemoryChars } : {}),
      };
      return {
        message: `Loaded ${plural(history.length, "message")} and ${
          plural(memories.length, "memory", "memories")
        }`,
        details: "",
        metadata: { messages: history.length, memories: memories.length },
      };
    },
  },
  analyzing: {
    async run(state, emit) {
      const analysis = await notes("analyzing", state.input.engine.analyze(state.ctx!), emit);
      state.analysis = analysis;
      return { message: analysis.summary, metadata: { intent: analysis.intent, ...analysis.metadata } };
    },
  },
  planning: {
    async run(state, emit) {
      state.plan = await notes("planning", state.input.engine.plan(state.ctx!, state.analysis!), emit);
      const planned = Array.isArray(state.plan) ? state.plan.length : 0;
      return {
        message: planned === 0 ? "No tool needed" : `Planned ${plural(planned, "action")}`,
        details: describePlan(state.plan),
        // Shown as the engine gave it (validation judges it next), but a `why` only when it is a sentence.
        metadata: {
          plan: Array.isArray(state.plan)
            ? state.plan.map((a) => typeof a === "object" && a !== null ? withWhy(a) : a)
            : state.plan,
          actions: planned,
        },
      };
    },
  },
  validation: {
    opening: ({ plan }) => ({ metadata: { actions: Array.isArray(plan) ? plan.length : 0 } }),
    async run(state, emit) {
      const { engine } = state.input;
      let checked = validatePlan(state.plan);
      if (!checked.ok && engine.replansInvalid) {
        emit(progress(
          "validation",
          "update",
          `The plan has ${plural(checked.problems.length, "invalid action")}; asking for a new one`,
          describeProblems(checked.problems),
          { problems: checked.problems, attempt: 1 },
        ));
        state.plan = await notes(
          "validation",
          engine.plan(state.ctx!, state.analysis!, checked.problems),
          emit,
        );
        checked = validatePlan(state.plan);
      }
      if (!checked.ok) {
        throw new StepError(
          "invalid_plan",
          `The plan is invalid: ${checked.problems.map((p) => p.message).join(" ")}`,
        );
      }
      state.plan = checked.plan.map(withWhy);
      return {
        message: "The plan is valid",
        details: describePlan(state.plan),
        metadata: { plan: state.plan, actions: state.plan.length },
      };
    },
  },
  execution: {
    opening: ({ plan }) => ({
      message: plan.length === 0 ? "Nothing to run" : `Running ${plural(plan.length, "action")}`,
      details: plan.length === 0 ? "" : describePlan(plan),
      metadata: { plan, actions: plan.length },
    }),
    async run(state, emit) {
      const { runId, project, stores, signal } = state.input;
      for (const [index, action] of state.plan.entries()) {
        const started = performance.now();
        let result: ActionResult;
        try {
          const out = await runTool(action, {
            projectId: project.id,
            runId,
            memories: stores.memories,
            messages: stores.messages,
            signal,
            ...(stores.outputs ? { outputs: stores.outputs } : {}),
            ...(stores.bounds ? { bounds: stores.bounds } : {}),
            index,
          });
          state.added.push(...(out.added ?? []));
          state.removed.push(...(out.removed ?? []));
          result = {
            ...action,
            ok: true,
            summary: out.summary,
            output: out.output,
            ...(out.truncated ? { truncated: true, fullUrl: out.fullUrl } : {}),
            durationMs: since(started),
          };
        } catch (error) {
          if (isAbort(error, signal)) throw error;
          // A bound (too many memories, one too long) ends the run with its own clear error.
          if (error instanceof BoundExceeded) throw new StepError(error.code, error.message);
          console.error(`Tool "${action.tool}" failed in run ${runId}:`, error);
          result = {
            ...action,
            ok: false,
            summary: `The tool "${action.tool}" failed.`,
            output: null,
            durationMs: since(started),
          };
        }
        state.actions.push(result);
        emit({ type: "action", action: { index, ...result } });
      }
      const total = state.actions.length;
      const failed = state.actions.filter((a) => !a.ok).length;
      return {
        message: failed === 0
          ? total === 0 ? "No action needed" : `Ran ${plural(total, "action")}`
          : `${failed} of ${plural(total, "action")} failed`,
        metadata: { actions: total, failed },
      };
    },
  },
  memory: {
    // deno-lint-ignore require-await
    async run({ ctx, added, removed }) {
      // What the context step read, plus this run's changes: no second read of every memory.
      const total = Math.max(0, (ctx?.memories.length ?? 0) + added.length - removed.length);
      return {
        message: `${added.length} saved, ${removed.length} forgotten; ${total} in memory`,
        details: [...added.map((m) => `+ ${m.text}`), ...removed.map((m) => `- ${m.text}`)].join("\n"),
        metadata: { added: added.length, removed: removed.length, total },
      };
    },
  },
  completion: {
    async run(state, emit) {
      const { engine, project, runId, stores, signal } = state.input;
      const { plan, actions, added, removed } = state;
      const maxAnswer = stores.bounds?.maxAnswerChars ?? 0;
      for await (
        const chunk of engine.answer(state.ctx!, state.analysis!, { plan, actions, added, removed })
      ) {
        if (chunk.kind === "token") {
          // At the bound the answer is kept up to it and the engine stopped (leaving the loop returns its iterator).
          const { delta, cut } = fitAnswer(state.answer, chunk.delta, maxAnswer);
          state.answer += delta;
          if (delta) emit({ type: "token", delta });
          if (cut) {
            state.answerCut = true;
            break;
          }
        } else {
          emit(progress("completion", "update", chunk.message, chunk.details, chunk.metadata));
        }
      }
      signal.throwIfAborted();
      const kept = state.answer.length;
      // The sentence goes with the answer, so the page, the API and a replay all say it was cut.
      if (state.answerCut) state.answer += `\n\n*${answerCutNotice(maxAnswer)}*`;
      const reply = stores.messages.build({ role: "assistant", content: state.answer, runId });
      const { keepReply } = state.input;
      if (keepReply) await keepReply(reply);
      else await stores.messages.save(project.id, reply);
      state.replyId = reply.id;
      if (state.answerCut) {
        return {
          message: `Answer cut at ${plural(kept, "character")}`,
          details: answerCutNotice(maxAnswer),
          metadata: { characters: kept, truncated: true, messageId: reply.id, ...usageOf(state.usage) },
        };
      }
      return {
        message: "Answer ready",
        metadata: { characters: state.answer.length, messageId: reply.id, ...usageOf(state.usage) },
      };
    },
  },
};
