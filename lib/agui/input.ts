/**
 * The input of `POST /api/projects/:id/agui`: AG-UI's own RunAgentInput
 * schema and the message a run answers (the body cap is lib/schemas.ts's
 * `AGUI_MAX_BODY_BYTES`).
 *
 * @module
 */

import { contentToText, type RunAgentInput } from "@ag-ui/core";
import { RunAgentInputSchema } from "@ag-ui/core/schemas";
import { HttpError } from "../http_error.ts";
import { MessageBody } from "../schemas.ts";

/**
 * The body of `POST /api/projects/:id/agui`: AG-UI's own RunAgentInput schema
 * (`threadId`, `runId`, `messages`, `tools`, `context`, `state`,
 * `forwardedProps`).
 */
export const AguiInput: typeof RunAgentInputSchema = RunAgentInputSchema;

/**
 * The text of the last user message of an input: the message a run answers.
 * Content parts other than text are dropped. Throws a 400
 * {@linkcode HttpError} when there is no user message, and a 400 or 413 when
 * its text is not a message Lantern accepts (empty, control characters, too
 * long).
 *
 * @example
 * ```ts
 * import { lastUserMessage } from "./input.ts";
 * const text = lastUserMessage({
 *   threadId: "t", runId: "r", tools: [], context: [],
 *   messages: [{ id: "1", role: "user", content: " Hi " }, { id: "2", role: "assistant", content: "Hello" }],
 * });
 * console.log(text); // Hi
 * ```
 */
export function lastUserMessage(input: RunAgentInput): string {
  const message = input.messages.findLast((m) => m.role === "user");
  if (!message || message.role !== "user") {
    throw new HttpError(400, "no_user_message", "The input has no user message to answer.");
  }
  const parsed = MessageBody.safeParse({ message: contentToText(message.content) });
  if (parsed.success) return parsed.data.message;
  const issue = parsed.error.issues[0];
  const tooLarge = parsed.error.issues.some((i) => i.code === "custom" && i.params?.tooLarge);
  const detail = (issue?.message ?? "it is invalid.").replace(/^message /, "it ");
  throw new HttpError(
    tooLarge ? 413 : 400,
    tooLarge ? "message_too_large" : "invalid_message",
    `The last user message ("${message.id.slice(0, 80)}") cannot be answered: ${detail}`,
  );
}
