/**
 * Access control with LANTERN_TOKEN: nothing in the API answers without the
 * token (a sweep over every registered route), the browser signs in once and
 * gets a signed session cookie that also opens event streams, attempts are
 * rate limited, and without a token Lantern stays on loopback and says so.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { loadConfig } from "../lib/config.ts";
import { Authenticator, safeNext, SESSION_COOKIE, timingSafeEqual } from "../lib/http/auth.ts";
import { newId } from "../lib/ids.ts";
import type { Memory, Project, RunEvent, RunStarted } from "../lib/protocol.ts";
import { accessNotice } from "../main.ts";
import { collectRunEvents, spawnServer, startServer } from "./helpers.ts";

const TOKEN = "lantern-test-token-7c1f0e9a55";
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function api<T>(url: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url + path, {
    ...init,
    headers: { ...AUTH, ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${await res.text()}`);
  return await res.json() as T;
}

async function signIn(url: string, token = TOKEN, next = "/"): Promise<Response> {
  return await fetch(`${url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token, next }),
  });
}

function sessionOf(res: Response): string {
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  assert.ok(
    cookie?.startsWith(`${SESSION_COOKIE}=`),
    `no session cookie in ${res.headers.get("set-cookie")}`,
  );
  return cookie!;
}

Deno.test("with LANTERN_TOKEN set, no API route answers without it (a sweep over app.routes)", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN, LANTERN_RATE_SIGN_IN_PER_MIN: "100000" });
  const { url, lantern } = server;
  const project = await api<Project>(url, "/api/projects", { method: "POST", body: '{"name":"Swept"}' });
  const run = await api<RunStarted>(url, `/api/projects/${project.id}/runs`, {
    method: "POST",
    body: '{"message":"Remember that the sweep is thorough"}',
  });
  const memory = await api<Memory>(url, `/api/projects/${project.id}/memories`, {
    method: "POST",
    body: '{"text":"Swept"}',
  });
  const params: Record<string, string> = {
    id: project.id,
    runId: run.runId,
    memoryId: memory.id,
    index: "0",
  };
  const routes = lantern.app.routes
    .filter((r) => r.method !== "ALL" && (r.path === "/api" || r.path.startsWith("/api/")))
    .map((r) => ({
      method: r.method,
      path: r.path.replace(/:(\w+)/g, (_, name: string) => {
        assert.ok(params[name], `the sweep has no value for :${name} in ${r.path}`);
        return params[name];
      }),
      pattern: r.path,
    }));
  // The sweep reaches every kind of API route there is.
  const patterns = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
  for (
    const expected of [
      "POST /api/projects",
      "GET /api/projects",
      "GET /api/projects/:id",
      "DELETE /api/projects/:id",
      "POST /api/projects/:id/chat",
      "POST /api/projects/:id/chat-stream",
      "GET /api/projects/:id/runs/:runId/events",
      "POST /api/projects/:id/runs/:runId/cancel",
      "DELETE /api/projects/:id/memories/:memoryId",
      "POST /api/projects/:id/agui",
    ]
  ) assert.ok(patterns.has(expected), `${expected} is not among the routes swept`);

  const forged = await new Authenticator("not-the-token-at-all", { sessionTtlMs: 60_000 }).issueSession();
  const without: [string, Record<string, string>][] = [
    ["no credentials", {}],
    ["a wrong bearer token", { authorization: "Bearer wrong-token" }],
    ["the token in the wrong scheme", { authorization: `Token ${TOKEN}` }],
    ["a forged session cookie", { cookie: `${SESSION_COOKIE}=${forged}` }],
    ["the raw token as a cookie", { cookie: `${SESSION_COOKIE}=${TOKEN}` }],
  ];
  for (const route of routes) {
    const methods = route.method === "GET" ? ["GET", "HEAD"] : [route.method];
    for (const method of methods) {
      for (const [how, headers] of without) {
        const body = method === "GET" || method === "HEAD" ? undefined : "{}";
        const res = await fetch(url + route.path, {
          method,
          body,
          headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
        });
        const text = await res.text();
        assert.equal(
          res.status,
          401,
          `${method} ${route.pattern} with ${how} answered ${res.status} ${text}`,
        );
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="Lantern"');
        if (method !== "HEAD") assert.equal(JSON.parse(text).error.code, "unauthorized");
      }
    }
  }
  // Unregistered API paths do not tell what exists either.
  for (const path of ["/api", "/api/", "/api/admin", `/api/projects/${newId()}/secrets`]) {
    const res = await fetch(url + path);
    await res.body?.cancel();
    assert.equal(res.status, 401, path);
  }
  // Nothing was changed by the refused requests; the token still reaches every route.
  assert.deepEqual((await api<Project[]>(url, "/api/projects")).map((p) => p.id), [project.id]);
  for (const route of routes.filter((r) => r.method === "GET")) {
    const res = await fetch(url + route.path, { headers: AUTH });
    // The feeds never end by themselves: the stream's head is enough.
    if (route.pattern === "/api/events" || route.pattern === "/api/projects/:id/events") {
      assert.equal(res.status, 200, `GET ${route.pattern} with the token answered ${res.status}`);
      assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await res.body?.cancel();
      continue;
    }
    const text = await res.text();
    // Every GET answers in full: JSON, or (for the events) the run's event stream from the start.
    assert.equal(res.status, 200, `GET ${route.pattern} with the token answered ${res.status} ${text}`);
    if (route.pattern.endsWith("/events")) assert.match(text, /^retry: \d+\n\nid: 1\n/);
    else assert.doesNotThrow(() => JSON.parse(text), `GET ${route.pattern} did not answer JSON`);
  }
});

Deno.test("pages send a visitor to /sign-in, and one sign-in opens the pages, the API and event streams", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN });
  const { url } = server;
  const project = await api<Project>(url, "/api/projects", { method: "POST", body: '{"name":"Cookies"}' });

  const home = await fetch(`${url}/`, { redirect: "manual" });
  await home.body?.cancel();
  assert.equal(home.status, 303);
  assert.equal(home.headers.get("location"), "/sign-in");
  const page = await fetch(`${url}/projects/${project.id}?notice=x`, { redirect: "manual" });
  await page.body?.cancel();
  assert.equal(page.status, 303);
  assert.equal(
    page.headers.get("location"),
    `/sign-in?next=${encodeURIComponent(`/projects/${project.id}?notice=x`)}`,
  );
  const form = await fetch(`${url}/projects`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: "name=Sneaky",
  });
  await form.body?.cancel();
  assert.equal(form.status, 303);
  assert.equal(form.headers.get("location"), "/sign-in");

  const signInPage = await fetch(`${url}/sign-in?next=/projects/${project.id}`);
  const html = await signInPage.text();
  assert.equal(signInPage.status, 200);
  assert.match(html, /<form method="post" action="\/sign-in"/);
  assert.match(html, /type="password"/);
  assert.match(html, new RegExp(`name="next" value="/projects/${project.id}"`));

  const wrong = await signIn(url, "not-the-token", `/projects/${project.id}`);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("set-cookie"), null);
  assert.match(await wrong.text(), /That token is not right/);

  const right = await signIn(url, TOKEN, `/projects/${project.id}`);
  await right.body?.cancel();
  assert.equal(right.status, 303);
  assert.equal(right.headers.get("location"), `/projects/${project.id}`);
  const setCookie = right.headers.get("set-cookie") ?? "";
  for (const attribute of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=604800"]) {
    assert.ok(setCookie.split("; ").includes(attribute), `the cookie lacks ${attribute}: ${setCookie}`);
  }
  const cookie = sessionOf(right);
  assert.ok(!cookie.includes(TOKEN), "the cookie never holds the token");
  assert.notEqual(sessionOf(await signIn(url)), cookie, "each sign-in gets its own session");

  // The cookie opens pages, the API, and the event stream an EventSource would open.
  const signedIn = await fetch(`${url}/projects/${project.id}`, { headers: { cookie } });
  assert.equal(signedIn.status, 200);
  assert.match(await signedIn.text(), /Cookies/);
  const started = await fetch(`${url}/api/projects/${project.id}/runs`, {
    method: "POST",
    headers: { cookie, origin: url, "content-type": "application/json" },
    body: '{"message":"Remember that cookies work"}',
  });
  assert.equal(started.status, 202);
  const { eventsUrl } = await started.json() as RunStarted;
  const stream = await fetch(url + eventsUrl, { headers: { cookie, accept: "text/event-stream" } });
  assert.equal(stream.status, 200);
  const events: RunEvent[] = await collectRunEvents(stream);
  assert.equal(events.at(-1)?.type, "result");

  // The no-JavaScript form works from the page's own origin.
  const created = await fetch(`${url}/projects`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin: url, "content-type": "application/x-www-form-urlencoded" },
    body: "name=From+the+form",
  });
  await created.body?.cancel();
  assert.equal(created.status, 303);
  assert.match(created.headers.get("location") ?? "", /^\/projects\/[0-9a-z]{37}$/);

  // Signing in again while signed in goes straight on; signing out clears the cookie.
  const again = await fetch(`${url}/sign-in?next=/`, { headers: { cookie }, redirect: "manual" });
  await again.body?.cancel();
  assert.equal(again.headers.get("location"), "/");
  const out = await fetch(`${url}/sign-out`, {
    method: "POST",
    headers: { cookie, origin: url },
    redirect: "manual",
  });
  await out.body?.cancel();
  assert.equal(out.status, 303);
  assert.match(out.headers.get("set-cookie") ?? "", /^lantern_session=; .*Max-Age=0/);
});

Deno.test("sign-in only ever sends the browser to a page of this site", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN });
  for (
    const next of [
      "//evil.example/",
      "https://evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      "javascript:alert(1)",
      "/%0d%0aSet-Cookie:x=1",
      "",
    ]
  ) {
    const res = await signIn(server.url, TOKEN, next);
    await res.body?.cancel();
    const location = res.headers.get("location") ?? "";
    assert.ok(location.startsWith("/") && !location.startsWith("//"), `${next} led to ${location}`);
    assert.ok(!/[\r\n]/.test(location));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (next) => {
      const target = safeNext(next);
      assert.ok(target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\"));
      assert.equal(new URL(target, "https://lantern.test").origin, "https://lantern.test");
    }),
    { numRuns: 500 },
  );
});

Deno.test("sign-in attempts and wrong bearer tokens are rate limited per client, with Retry-After", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN, LANTERN_RATE_SIGN_IN_PER_MIN: "3" });
  const { url, lantern } = server;
  const session = sessionOf(await signIn(url));
  for (let i = 0; i < 2; i++) {
    const res = await signIn(url, `guess-${i}`);
    await res.body?.cancel();
    assert.equal(res.status, 401);
  }
  const bearer = await fetch(`${url}/api/projects`, { headers: { authorization: "Bearer guess-3" } });
  await bearer.body?.cancel();
  assert.equal(bearer.status, 401);

  // Limited now: every wrong token is refused with 429 (issue 13: the right one still works).
  for (const attempt of [() => signIn(url, "guess-4")]) {
    const res = await attempt();
    await res.body?.cancel();
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("retry-after")) >= 1, "Retry-After is a number of seconds");
    assert.equal(res.headers.get("set-cookie"), null);
  }
  const limited = await fetch(`${url}/api/projects`, { headers: { authorization: "Bearer guess-5" } });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  assert.equal((await limited.json()).error.code, "rate_limited");
  const right = await fetch(`${url}/api/projects`, { headers: AUTH });
  await right.body?.cancel();
  assert.equal(right.status, 200, "the right bearer token works from a limited address");
  const rightForm = await signIn(url, TOKEN);
  await rightForm.body?.cancel();
  assert.equal(rightForm.status, 303, "the right token signs in from a limited address");

  // A session already signed in keeps working, and another client is not affected.
  const signedIn = await fetch(`${url}/api/projects`, { headers: { cookie: session } });
  await signedIn.body?.cancel();
  assert.equal(signedIn.status, 200);
  const other = await lantern.fetch(new Request(`${url}/api/projects`, { headers: AUTH }), {
    remoteAddr: { transport: "tcp", hostname: "192.0.2.10", port: 40000 },
    completed: Promise.resolve(),
  });
  await other.body?.cancel();
  assert.equal(other.status, 200);
});

Deno.test("sessions are signed, expire, and end when the token changes", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const auth = new Authenticator(TOKEN, { sessionTtlMs: 60_000, now: () => now });
  const session = await auth.issueSession();
  assert.ok(await auth.verifySession(session));
  assert.ok(!session.includes(TOKEN));
  now += 59_000;
  assert.ok(await auth.verifySession(session));
  now += 2_000;
  assert.ok(!(await auth.verifySession(session)), "an expired session is refused");

  const fresh = await auth.issueSession();
  const rotated = new Authenticator(`${TOKEN}-rotated`, { sessionTtlMs: 60_000, now: () => now });
  assert.ok(!(await rotated.verifySession(fresh)), "a new token signs everyone out");
  assert.ok(await new Authenticator(TOKEN, { sessionTtlMs: 60_000, now: () => now }).verifySession(fresh));

  // Any change to a session value makes it invalid.
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.string({ minLength: 1, maxLength: 3 }), async (at, text) => {
      const i = at % fresh.length;
      const changed = fresh.slice(0, i) + text + fresh.slice(i + 1);
      fc.pre(changed !== fresh);
      assert.ok(!(await auth.verifySession(changed)), `accepted ${changed}`);
    }),
    { numRuns: 300 },
  );

  assert.ok(await auth.checkToken(TOKEN));
  for (const guess of ["", TOKEN.slice(0, -1), `${TOKEN} `, TOKEN.toUpperCase(), `${TOKEN}\0`]) {
    assert.ok(!(await auth.checkToken(guess)), JSON.stringify(guess));
  }
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.ok(timingSafeEqual(bytes("same"), bytes("same")));
  assert.ok(!timingSafeEqual(bytes("same"), bytes("sane")));
  assert.ok(!timingSafeEqual(bytes("same"), bytes("same!")));
});

Deno.test("without a token Lantern listens on loopback only and says so; a public HOST gets a warning", async () => {
  const open = loadConfig({});
  assert.equal(open.host, "127.0.0.1");
  assert.equal(open.token, null);
  assert.match(accessNotice(open).join("\n"), /open \(no LANTERN_TOKEN\).*127\.0\.0\.1 only/);
  const exposed = accessNotice(loadConfig({ HOST: "0.0.0.0" }));
  assert.match(exposed[0] ?? "", /^WARNING: HOST is "0\.0\.0\.0" and LANTERN_TOKEN is not set/);
  const locked = accessNotice(loadConfig({ HOST: "0.0.0.0", LANTERN_TOKEN: TOKEN }));
  assert.ok(!locked.some((line) => line.startsWith("WARNING")), locked.join("\n"));
  assert.match(
    accessNotice(loadConfig({ LANTERN_TOKEN: "short" })).join("\n"),
    /WARNING: LANTERN_TOKEN is only 5/,
  );
  assert.throws(
    () => loadConfig({ LANTERN_TOKEN: " padded " }),
    /LANTERN_TOKEN cannot start or end with a space/,
  );
  assert.throws(() => loadConfig({ LANTERN_TOKEN: "a\nb" }), /control characters/);

  const child = await spawnServer({ LANTERN_KV_PATH: ":memory:" });
  try {
    assert.match(
      child.output(),
      /Access: open \(no LANTERN_TOKEN\), so Lantern listens on 127\.0\.0\.1 only/,
    );
    const res = await fetch(`${child.url}/api/projects`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
  } finally {
    await child.kill("SIGTERM");
  }
});
