/**
 * Picks the engine the configuration names.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Engine } from "./engine.ts";
import { LocalEngine } from "./local_engine.ts";
import { OpenAIEngine, openAIEngineOptions } from "./openai_engine.ts";

/**
 * The engine for a configuration. Throws an `Error` with a clear sentence
 * when the engine cannot be set up (a missing key, say).
 *
 * @example
 * ```ts
 * import { createEngine } from "./engines.ts";
 * import { loadConfig } from "../config.ts";
 * console.log(createEngine(loadConfig({})).name); // local
 * ```
 */
export function createEngine(config: Config): Engine {
  if (config.engine === "openai") return new OpenAIEngine(openAIEngineOptions(config));
  return new LocalEngine({ paceMs: config.localPaceMs, tokenMs: config.localTokenMs });
}
