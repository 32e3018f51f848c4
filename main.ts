/**
 * Starts Lantern: `deno task start`. Reads its settings from the
 * environment (see README), serves on HOST:PORT, and shuts down gracefully
 * on SIGINT or SIGTERM.
 *
 * @module
 */

import { loadConfig } from "./lib/config.ts";
import { createLantern } from "./lib/server.ts";

if (import.meta.main) {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(`Lantern cannot start: ${(error as Error).message}`);
    Deno.exit(1);
  }
  let lantern;
  try {
    lantern = await createLantern(config);
  } catch (error) {
    console.error(`Lantern cannot start: ${(error as Error).message}`);
    Deno.exit(1);
  }
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(`Listening on http://${shown}:${port}/`);
      console.log(
        `Engine: ${lantern.runs.engine.name} (${lantern.runs.engine.model}); KV: ${
          config.kvPath || "platform default"
        }`,
      );
    },
  }, lantern.fetch);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down (runs get ${config.shutdownGraceMs} ms to finish).`);
    const closing = server.shutdown();
    await lantern.close(config.shutdownGraceMs);
    await closing;
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => shutdown(signal));
  }
}
