/**
 * Everything of the local engine that reads language, in one module that
 * the engine loads in the background when it is created: compromise takes a
 * while to load, and neither importing the engine nor a run should wait for it.
 *
 * @example
 * ```ts
 * import { read } from "./mind.ts";
 * console.log(read("When is the launch?")[0]?.intent); // recall
 * ```
 *
 * @module
 */

export { compose } from "./answers.ts";
export { read } from "./reader.ts";
export { previousFacts, replaced } from "./resolve.ts";
