/**
 * Lantern for `deno serve --parallel` (`deno task start:parallel`): each
 * isolate builds its own registry over the same KV file, so a run started
 * in one isolate is followed and cancelled from any other through KV.
 *
 * The listening address comes from `deno serve --host` (the task uses
 * 127.0.0.1). Rate limits and stream caps are counted per isolate.
 *
 * @module
 */

import { loadConfig } from "./lib/config.ts";
import { fdWarning, readFdLimits } from "./lib/http/fd_limit.ts";
import { createLantern } from "./lib/server.ts";

const config = loadConfig();
const lantern = await createLantern(config);
// `deno serve` owns the serve loop, so it cannot be restarted as main.ts does: warn early instead.
const fds = fdWarning(config, await readFdLimits());
if (fds) console.warn(fds);

// `deno serve` waits for pending work before it exits; the registry's KV
// watches are such work, so close it (letting runs finish) on a signal.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => void lantern.close(config.shutdownGraceMs));
}

export default {
  // The connection info's remote address is the client identity limits count by.
  fetch: (request, info) => lantern.fetch(request, info),
} satisfies Deno.ServeDefaultExport;
