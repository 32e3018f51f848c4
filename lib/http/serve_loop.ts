/**
 * `Deno.serve` that survives running out of file descriptors. In Deno 2.9,
 * when `accept()` fails with "Too many open files" the serve loop ends:
 * `server.finished` rejects (nothing calls `onError`) and, unobserved, the
 * rejection kills the process. Here it is observed: the listener is opened
 * again (with a short back-off while descriptors stay short), a line is logged
 * (at most one per 5 s) and {@linkcode ServeLoop.restarts} counts it.
 * Requests caught in the failure may fail; event-stream clients reconnect
 * and resume with `Last-Event-ID`.
 *
 * @module
 */

/** Options of {@linkcode serveForever}. */
export interface ServeLoopOptions {
  hostname: string;
  port: number;
  /** Called once, when the first listener is up. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Where restart lines go. Default `console.error`. */
  log?: (line: string) => void;
  /** The longest pause between attempts to listen again (ms). Default 250. */
  maxBackoffMs?: number;
}

/** A server kept listening by {@linkcode serveForever}. */
export interface ServeLoop {
  /** How many times the serve loop failed and was started again. */
  readonly restarts: number;
  /** The address listened on. */
  readonly addr: Deno.NetAddr;
  /** Stops listening for good and lets open requests finish. */
  shutdown(): Promise<void>;
}

/**
 * Serves `handler` on `hostname:port` and starts serving again whenever the
 * serve loop fails, until {@linkcode ServeLoop.shutdown}.
 *
 * @example
 * ```ts
 * import { serveForever } from "./serve_loop.ts";
 * const loop = serveForever({ hostname: "127.0.0.1", port: 0 }, () => new Response("ok"));
 * const res = await fetch(`http://127.0.0.1:${loop.addr.port}/`);
 * console.log(await res.text(), loop.restarts); // ok 0
 * await loop.shutdown();
 * ```
 */
export function serveForever(
  options: ServeLoopOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): ServeLoop {
  const log = options.log ?? ((line: string) => console.error(line));
  // Short, so a client is answered soon after a flood ends; the pause only keeps a failing loop from spinning.
  const maxBackoff = options.maxBackoffMs ?? 250;
  let restarts = 0;
  let stopping = false;
  let backoff = 50;
  let lastFailure = 0;
  let lastLog = -Infinity;
  let unlogged = 0;
  let server = listen(options.port, true);
  // A restart listens on the port actually bound (the first one may ask for 0).
  const addr = server.addr;

  function listen(port: number, first: boolean): Deno.HttpServer<Deno.NetAddr> {
    const next = Deno.serve({
      hostname: options.hostname,
      port,
      onListen: (a) => {
        if (first) options.onListen?.(a);
      },
    }, handler);
    next.finished.catch((error) => void failed(error));
    return next;
  }

  async function failed(error: unknown): Promise<void> {
    if (stopping) return;
    restarts++;
    const now = Date.now();
    // Failing again soon after a restart means descriptors are still short: wait longer.
    backoff = now - lastFailure < 2_000 ? Math.min(backoff * 2, maxBackoff) : 50;
    lastFailure = now;
    // While descriptors stay short the loop fails several times a second: one line per 5 s.
    if (now - lastLog >= 5_000) {
      log(
        `The HTTP server stopped (${
          (error as Error)?.message ?? String(error)
        }); serving again (restart ${restarts}${
          unlogged > 0 ? `, ${unlogged} more since the last line` : ""
        }). If this repeats, raise the file limit (ulimit -n).`,
      );
      lastLog = now;
      unlogged = 0;
    } else unlogged++;
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, backoff));
      if (stopping) return;
      try {
        server = listen(addr.port, false);
        return;
      } catch (listenError) {
        backoff = Math.min(backoff * 2, maxBackoff);
        if (Date.now() - lastLog >= 5_000) {
          log(`Listening again failed (${(listenError as Error).message}); retrying every ${backoff} ms.`);
          lastLog = Date.now();
        }
      }
    }
  }

  return {
    get restarts() {
      return restarts;
    },
    addr,
    async shutdown() {
      stopping = true;
      await server.shutdown().catch(() => {});
    },
  };
}
