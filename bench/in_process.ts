/**
 * Lantern in the bench's own process, driven through its `fetch` handler
 * (no sockets): what bench/inprocess.ts and bench/idle_memory.ts share.
 *
 * @module
 */

import { loadConfig } from "../lib/config.ts";
import { createLantern, type Lantern } from "../lib/server.ts";

/** Lantern over a temp KV file, and a way to POST JSON to it. */
export interface InProcessLantern {
  lantern: Lantern;
  /** POSTs `body` as JSON to `path`, as a client on loopback would. */
  post(path: string, body: unknown): Promise<Response>;
  /** Creates `n` projects; returns their ids. */
  createProjects(n: number): Promise<string[]>;
  /** Starts one run in each project at once (`POST …/chat-stream`) and reads each answer to its end. */
  runEach(projectIds: string[]): Promise<void>;
  /** Closes Lantern (no grace) and deletes its KV file. */
  close(): Promise<void>;
}

/** Starts Lantern with `env` (logs and limits off, a temp KV file unless given). */
export async function startInProcess(env: Record<string, string>): Promise<InProcessLantern> {
  const dir = await Deno.makeTempDir();
  const lantern = await createLantern(loadConfig({
    LANTERN_LIMITS: "off",
    LANTERN_LOG: "off",
    LANTERN_KV_PATH: `${dir}/bench.kv`,
    ...env,
  }));
  const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as Deno.ServeHandlerInfo;
  const post = async (path: string, body: unknown) =>
    await lantern.fetch(
      new Request(`http://127.0.0.1:8000${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", host: "127.0.0.1:8000" },
        body: JSON.stringify(body),
      }),
      info,
    );
  const oneRun = async (projectId: string) => {
    const res = await post(`/api/projects/${projectId}/chat-stream`, { message: "Hello there" });
    if (res.status !== 200) throw new Error(`chat-stream answered ${res.status}: ${await res.text()}`);
    for await (const _ of res.body!) { /* read to the end */ }
  };
  return {
    lantern,
    post,
    createProjects: async (n) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        ids.push((await (await post("/api/projects", { name: `bench ${i}` })).json()).id);
      }
      return ids;
    },
    runEach: async (projectIds) => {
      await Promise.all(projectIds.map(oneRun));
    },
    close: async () => {
      await lantern.close(0);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
