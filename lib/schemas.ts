/**
 * Schemas for every request body and parameter (zod), with limits.
 *
 * @module
 */

import { z } from "zod";
import { MEMORY_CHARS_CEILING } from "./store/bounds.ts";

/** The largest message a user can send, in bytes of UTF-8. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
/** The largest JSON body any route reads, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The largest AG-UI request body read, in bytes. Larger than Lantern's own
 * JSON bodies because an AG-UI client sends the whole thread with every run.
 * (Here, not in lib/agui/, so that the body limit does not load AG-UI's
 * modules at start-up.)
 */
export const AGUI_MAX_BODY_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
// Tab, newline and carriage return are text; other control characters are not.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069): in a name they can make it read as another one
 * ("Trojan Source"). The marks U+200E/U+200F stay allowed.
 */
export const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

/**
 * A required text field: not empty, well-formed Unicode (no lone
 * surrogates, which JSON's `\uD800` escapes can produce), no control
 * characters, at most `max` bytes of UTF-8 (or characters, for short fields
 * that mirror a tool's limit); stored trimmed. Names are also stored in
 * Unicode NFC form (one name, one spelling) and refuse bidirectional controls.
 */
function cleanText(
  field: string,
  label: string,
  max: number,
  unit: "bytes" | "characters",
  { name = false } = {},
) {
  const size = unit === "bytes" ? (s: string) => encoder.encode(s).length : (s: string) => s.length;
  return z.string({ error: `${label} must be a string.` })
    .refine((s) => s.isWellFormed(), `${label} is not well-formed Unicode (it has a lone surrogate).`)
    .refine((s) => s.trim().length > 0, `${label} cannot be empty.`)
    .refine((s) => !CONTROL.test(s), `${label} cannot contain control characters.`)
    .refine(
      (s) => !name || !BIDI_CONTROL.test(s),
      `${label} cannot contain bidirectional override or isolate characters (U+202A–U+202E, U+2066–U+2069).`,
    )
    .refine((s) => size(s) <= max, {
      message: `${label} is longer than ${max} ${unit}.`,
      params: { tooLarge: `${field}_too_large` },
    })
    // Only names are normalised: a message or memory keeps the exact characters typed.
    .transform((s) => (name ? s.normalize("NFC") : s).trim());
}

/** `{"message"}` for chat, chat-stream and runs. */
export const MessageBody = z.object({
  message: cleanText("message", "The message", MAX_MESSAGE_BYTES, "bytes"),
});

/** `{"name"}` for a new project. */
export const ProjectBody = z.object({
  name: cleanText("name", "The name", 200, "characters", { name: true }),
});

/**
 * `{"text"}` for a new memory, at most the save_memory tool's ceiling; the
 * project's own bound (`LANTERN_MAX_MEMORY_CHARS`) is checked as it is stored.
 */
export const MemoryBody = z.object({
  text: cleanText("text", "The text", MEMORY_CHARS_CEILING, "characters"),
});

/** A `Last-Event-ID` header or `lastEventId` parameter. */
export const LastEventId = z.string().regex(/^\d{1,15}$/, "lastEventId must be a whole number.")
  .transform(Number);

/** The sign-in form: the token, and the local page to return to. */
export const SignInForm = z.object({
  token: z.string({ error: "Enter the token." }).min(1, "Enter the token.").max(
    1024,
    "The token is too long.",
  ),
  next: z.string().max(2000).optional(),
});
