/**
 * The test helpers that once made `runs_instances_test.ts` flaky, held to
 * what the tests rely on:
 *
 * - `spawnServer` calls a `deno serve --parallel` server started only once
 *   every isolate answers. It used to return when the first did; a second
 *   isolate still starting (slow on a loaded machine) then took no
 *   connection, "both isolates served followers" failed, and the test's
 *   `finally` killed the server under followers still reading.
 * - `readToEnd` gives a read cut by a killed server as a value. A follower
 *   promise left unhandled then rejected ("error reading a body from
 *   connection"), and the uncaught error cancelled the test, hiding the
 *   assertion that had failed.
 */

import assert from "node:assert/strict";
import { createProject, freePort, isolateOf, spawnServer } from "./helpers.ts";
import { openEvents, readToEnd, RUNS_ENV, startRun, tempKvPath } from "./runs_helpers.ts";

Deno.test("spawnServer: a deno serve --parallel server is ready only once every isolate answers, even one that starts late", async () => {
  await using kv = await tempKvPath();
  const port = freePort();
  const entry = "tests/fixtures/late_isolate_serve.ts";
  // The second isolate listens 4 s after the first: long enough for every
  // probe below to reach the first alone, were the server called ready when
  // the first answered.
  const server = await spawnServer({
    ...RUNS_ENV,
    LANTERN_KV_PATH: kv.path,
    LATE_ISOLATE_MARKER: `${kv.path}.first`,
    LATE_ISOLATE_MS: "4000",
    DENO_JOBS: "2",
    PORT: String(port),
  }, {
    entry,
    args: ["serve", "--parallel", "-A", "--host", "127.0.0.1", "--port", String(port), entry],
    isolates: 2,
  });
  try {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) seen.add(await isolateOf(server.url));
    assert.equal(seen.size, 2, `30 fresh connections all reached one isolate:\n${server.output()}`);
  } finally {
    await server.kill("SIGKILL");
  }
});

Deno.test("readToEnd: a follower whose server is killed mid-read reports the cut read, not an uncaught rejection", async () => {
  await using kv = await tempKvPath();
  // Each step waits 2 s: the run is still going when the server is killed.
  const server = await spawnServer({ ...RUNS_ENV, LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "2000" });
  let followed;
  try {
    const project = await createProject(server.url);
    const run = await startRun(server.url, project.id, "help");
    const res = await openEvents(server.url, run.eventsUrl);
    assert.equal(res.status, 200);
    followed = readToEnd(res);
  } finally {
    // The follower's read is cut while the test awaits something else: had it
    // rejected, the rejection would be uncaught now and fail this test.
    const status = await server.kill("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
  }
  const { events, error } = await followed;
  assert.ok(error instanceof TypeError, `the cut read's error: ${error}`);
  assert.match(error.message, /error reading a body from connection/);
  assert.ok(!events.some((e) => e.type === "result" || e.type === "error"), "the run had not ended");
});
