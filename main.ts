/**
 * Starts Lantern: `deno task start`. Reads its settings from the
 * environment (see README), serves on HOST:PORT (and serves again if the
 * runtime's serve loop fails, as when file descriptors run out), and shuts
 * down gracefully on SIGINT or SIGTERM.
 *
 * @module
 */

import { type Config, loadConfig } from "./lib/config.ts";
import { fdWarning, readFdLimits } from "./lib/http/fd_limit.ts";
import { allowedHosts } from "./lib/http/host_guard.ts";
import { serveForever } from "./lib/http/serve_loop.ts";
import { createLantern } from "./lib/server.ts";

/** Whether a listening address only accepts connections from this machine. */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === "::1" ||
    hostname === "[::1]" || hostname === "localhost";
}

/**
 * What Lantern says about access at start-up: who can reach it, and a
 * warning when it is open to the network without a token.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./lib/config.ts";
 * import { accessNotice } from "./main.ts";
 * console.log(accessNotice(loadConfig({ HOST: "0.0.0.0" }))[0]?.startsWith("WARNING")); // true
 * ```
 */
export function accessNotice(config: Config): string[] {
  const lines: string[] = [];
  if (config.token !== null) {
    lines.push(`Access: LANTERN_TOKEN is set; the API needs it and browsers sign in at /sign-in.`);
    if (config.token.length < 16) {
      lines.push(
        `WARNING: LANTERN_TOKEN is only ${config.token.length} characters; use 16 or more random ones.`,
      );
    }
  } else if (isLoopback(config.host)) {
    lines.push(
      `Access: open (no LANTERN_TOKEN), so Lantern listens on ${config.host} only; ` +
        `set LANTERN_TOKEN before setting HOST to reach it from elsewhere.`,
    );
  } else {
    lines.push(
      `WARNING: HOST is "${config.host}" and LANTERN_TOKEN is not set: anyone who can reach this ` +
        `address can read and change everything in Lantern. Set LANTERN_TOKEN.`,
    );
  }
  const hosts = allowedHosts(config);
  if (config.allowedHosts !== null) {
    lines.push(`Hosts: ${hosts === null ? "any (LANTERN_ALLOWED_HOSTS=*)" : hosts.join(", ")}.`);
  } else if (
    hosts !== null && (config.host === "0.0.0.0" || config.host === "::" || config.host === "[::]")
  ) {
    lines.push(
      `WARNING: only requests addressed to ${hosts.join(", ")} (any port) are answered, against DNS ` +
        `rebinding; set LANTERN_ALLOWED_HOSTS to the names clients use to reach this machine.`,
    );
  }
  if (!config.limits) lines.push("Limits: off (LANTERN_LIMITS=off); no rate limits or stream caps.");
  return lines;
}

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
  const fds = fdWarning(config, await readFdLimits());
  const server = serveForever({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
      if (lantern.logger.mode === "json") {
        // ops: with LANTERN_LOG=json every line on stdout is JSON, start-up included.
        // The message keeps the words scripts wait for ("Listening on http://…").
        lantern.logger.info(`Listening on http://${shown}:${port}/`, {
          engine: lantern.runs.engine.name,
          model: lantern.runs.engine.model,
          kv: config.kvPath.startsWith("http") ? "kv-connect" : config.kvPath || "platform default",
          instanceId: lantern.runs.instanceId,
        });
        for (const line of accessNotice(config)) {
          lantern.logger[line.startsWith("WARNING") ? "warn" : "info"](line);
        }
        return;
      }
      console.log(`Listening on http://${shown}:${port}/`);
      console.log(
        `Engine: ${lantern.runs.engine.name} (${lantern.runs.engine.model}); KV: ${
          config.kvPath || "platform default"
        }`,
      );
      for (const line of [...accessNotice(config), ...(fds ? [fds] : [])]) {
        (line.startsWith("WARNING") ? console.warn : console.log)(line);
      }
    },
  }, (request, info) => lantern.fetch(request, info));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (lantern.logger.mode === "json") {
      lantern.logger.info("shutting down", { signal, graceMs: config.shutdownGraceMs });
    } else console.log(`${signal}: shutting down (runs get ${config.shutdownGraceMs} ms to finish).`);
    const closing = server.shutdown();
    await lantern.close(config.shutdownGraceMs);
    // A client that reads nothing never takes the final comment, and
    // shutdown() would wait for it forever: give connections a second.
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => shutdown(signal));
  }
}
