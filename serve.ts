/**
 * Lantern for `deno serve --parallel` (`deno task start:parallel`): each
 * isolate builds its own registry over the same KV file, so a run started
 * in one isolate is followed and cancelled from any other through KV.
 *
 * @module
 */

import { loadConfig } from "./lib/config.ts";
import { createLantern } from "./lib/server.ts";

const lantern = await createLantern(loadConfig());

export default { fetch: lantern.fetch } satisfies Deno.ServeDefaultExport;
