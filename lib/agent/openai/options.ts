/**
 * The OpenAI engine's options, and how they are read from the configuration
 * (with a sentence naming the variable to set when one is missing or wrong).
 *
 * @module
 */

import type { Config } from "../../config.ts";

/** The API used when `OPENAI_BASE_URL` is not set. */
export const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/** What the OpenAI engine needs to reach a model. */
export interface OpenAIEngineOptions {
  /** The API's base URL, ending in `/v1`; OpenAI's when left out. */
  baseUrl?: string;
  /** The API key; local servers such as Ollama accept any non-empty value. */
  apiKey: string;
  /** The model's name, such as `gpt-4o-mini` or `llama3.1`. */
  model: string;
  /** How long to wait for a reply to start, and at most between two streamed chunks. */
  timeoutMs: number;
  /** How many times a 429, a 5xx or an unreachable server is retried. */
  maxRetries: number;
  /** The `fetch` the SDK uses; the global one when left out. */
  fetch?: typeof fetch;
}

/**
 * Picks the OpenAI engine's options out of the configuration, with a sentence
 * naming the variable to set when one is missing or wrong.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { openAIEngineOptions } from "./options.ts";
 * try {
 *   openAIEngineOptions(loadConfig({ LANTERN_ENGINE: "openai" }));
 * } catch (error) {
 *   console.log((error as Error).message); // OPENAI_API_KEY must be set…
 * }
 * ```
 */
export function openAIEngineOptions(config: Config): OpenAIEngineOptions {
  const { baseUrl, apiKey, model, timeoutMs, maxRetries } = config.openai;
  if (!apiKey) {
    throw new Error(
      `OPENAI_API_KEY must be set when LANTERN_ENGINE is "openai"; local servers such as Ollama check no key, so any non-empty value works for them (for example "ollama").`,
    );
  }
  if (!model) {
    throw new Error(
      `LANTERN_MODEL must name the model when LANTERN_ENGINE is "openai", for example "gpt-4o-mini" or "llama3.1".`,
    );
  }
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    throw new Error(
      `OPENAI_BASE_URL must be a URL such as "http://localhost:11434/v1", got "${baseUrl}".`,
    );
  }
  if (timeoutMs < 1) {
    throw new Error(
      `LANTERN_MODEL_TIMEOUT_MS must be at least 1, got "${timeoutMs}".`,
    );
  }
  return {
    baseUrl: baseUrl ?? DEFAULT_BASE_URL,
    apiKey,
    model,
    timeoutMs,
    maxRetries,
  };
}
