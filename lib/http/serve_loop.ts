/**
 * `Deno.serve` that survives running out of file descriptors. In Deno 2.9,
 * when `accept()` fails with "Too many open files" the serve loop ends:
 * `server.finished` rejects (nothing calls `onError`) and, unobserved, the
 * rejection kills the process. Here it is observed: the listener is opened
 * again (with a back-off while descriptors stay short), a line is logged and
 * {@linkcode ServeLoop.restarts} counts it. Connections the old listener had
 * accepted are dropped with it; event-stream clients reconnect and resume
 * with `Last-Event-ID`.
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
  /** The longest pause between attempts to listen again (ms). Default 1,000. */
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
  const maxBackoff = options.maxBackoffMs ?? 1_000;
  let restarts = 0;
  let stopping = false;
  let backoff = 50;
  let lastFailure = 0;
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
    log(
      `The HTTP server stopped (${
        (error as Error)?.message ?? String(error)
      }); serving again (restart ${restarts}). If this repeats, raise the file limit (ulimit -n).`,
    );
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, backoff));
      if (stopping) return;
      try {
        server = listen(addr.port, false);
        return;
      } catch (listenError) {
        backoff = Math.min(backoff * 2, maxBackoff);
        log(`Listening again failed (${(listenError as Error).message}); retrying in ${backoff} ms.`);
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
