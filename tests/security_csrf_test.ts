/**
 * Cross-site request forgery and CORS: a browser on another site cannot
 * change anything (with or without a token configured), the no-JavaScript
 * forms keep working from Lantern's own pages, servers and curl keep working,
 * and CORS answers only the origins in LANTERN_CORS_ORIGINS, never with
 * credentials.
 */

import assert from "node:assert/strict";
import type { Project } from "../lib/protocol.ts";
import { createProject, startServer } from "./helpers.ts";

const TOKEN = "csrf-test-token-0f3b9e71a2";

/** How many projects the form posts made (they are all called "Form project"). */
async function formProjects(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/api/projects`, { headers });
  assert.equal(res.status, 200);
  return ((await res.json()) as Project[]).filter((p) => p.name === "Form project").length;
}

async function post(
  url: string,
  headers: Record<string, string>,
  body = "name=Form+project",
  type = "application/x-www-form-urlencoded",
): Promise<Response> {
  const res = await fetch(`${url}/projects`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": type, ...headers },
    body,
  });
  await res.body?.cancel();
  return res;
}

Deno.test("without a token: same-origin forms and curl work, cross-site browsers are refused", async () => {
  await using server = await startServer();
  const { url } = server;
  const host = new URL(url).host;

  // The page's own form, as Chromium and Firefox send it.
  const own = await post(url, { origin: url, "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate" });
  assert.equal(own.status, 303);
  assert.match(own.headers.get("location") ?? "", /^\/projects\/[0-9a-z]{37}$/);
  // An older browser sending only Sec-Fetch-Site, a bookmark-typed request, and curl.
  assert.equal((await post(url, { "sec-fetch-site": "same-origin" })).status, 303);
  assert.equal((await post(url, { "sec-fetch-site": "none" })).status, 303);
  assert.equal((await post(url, {})).status, 303);
  // A page under a no-referrer policy posts with "Origin: null"; the fetch metadata says it is ours.
  assert.equal((await post(url, { origin: "null", "sec-fetch-site": "same-origin" })).status, 303);
  // Behind a TLS proxy the page is https:// while the server sees http://: same host counts.
  assert.equal((await post(url, { origin: `https://${host}`, "sec-fetch-site": "same-origin" })).status, 303);
  assert.equal(await formProjects(url), 6, "each accepted form post made its project");

  const refused: Record<string, string>[] = [
    { origin: "https://evil.example" },
    { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
    { origin: "null" },
    { origin: "null", "sec-fetch-site": "cross-site" },
    { origin: `http://${host}.evil.example` },
    { origin: `${url}`, "sec-fetch-site": "cross-site" },
    { origin: "not a url" },
  ];
  for (const headers of refused) {
    const res = await post(url, headers);
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  }
  assert.equal(await formProjects(url), 6, "a refused form post made a project");
  // JSON API routes are covered the same way, every method that changes something.
  const project = await createProject(url, "Kept");
  for (
    const [method, path] of [
      ["POST", "/api/projects"],
      ["DELETE", `/api/projects/${project.id}`],
      ["POST", `/api/projects/${project.id}/memories`],
      ["PUT", "/api/projects"],
      ["PATCH", `/api/projects/${project.id}`],
    ]
  ) {
    const res = await fetch(url + path, {
      method,
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: '{"name":"x","text":"x"}',
    });
    await res.body?.cancel();
    assert.equal(res.status, 403, `${method} ${path}`);
  }
  const projects = await (await fetch(`${url}/api/projects`)).json() as Project[];
  assert.ok(projects.some((p) => p.id === project.id), "the cross-site delete did nothing");
  assert.ok(!projects.some((p) => p.name === "x"), "the cross-site create did nothing");
  // Reading is not a state change: a cross-site GET is answered (CORS keeps the answer from the page).
  const read = await fetch(`${url}/api/projects`, { headers: { origin: "https://evil.example" } });
  await read.body?.cancel();
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("access-control-allow-origin"), null);
});

Deno.test("with a token: a cookie needs a same-origin browser, a bearer token works from anywhere", async () => {
  await using server = await startServer({ LANTERN_TOKEN: TOKEN });
  const { url } = server;
  const signIn = await fetch(`${url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: url,
      "sec-fetch-site": "same-origin",
    },
    body: `token=${TOKEN}`,
  });
  await signIn.body?.cancel();
  const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;

  const asOwner = { authorization: `Bearer ${TOKEN}` };
  assert.equal((await post(url, { cookie, origin: url, "sec-fetch-site": "same-origin" })).status, 303);
  assert.equal(await formProjects(url, asOwner), 1, "the same-origin form post made its project");
  assert.equal((await post(url, { cookie, origin: "https://evil.example" })).status, 403);
  assert.equal((await post(url, { cookie, "sec-fetch-site": "cross-site" })).status, 403);
  // A cookie with no sign of where the request came from is not enough.
  assert.equal((await post(url, { cookie })).status, 403);
  assert.equal(await formProjects(url, asOwner), 1, "a refused form post made a project");
  // A bearer token is never sent by a browser on its own, so it needs no origin check.
  const bearer = await fetch(`${url}/api/projects`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      origin: "https://tool.example",
      "content-type": "application/json",
    },
    body: '{"name":"From a tool"}',
  });
  await bearer.body?.cancel();
  assert.equal(bearer.status, 201);
  // Signing in from another site is refused too (no login CSRF).
  const crossSignIn = await fetch(`${url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
    body: `token=${TOKEN}`,
  });
  await crossSignIn.body?.cancel();
  assert.equal(crossSignIn.status, 403);
  assert.equal(crossSignIn.headers.get("set-cookie"), null);
});

Deno.test("CORS answers only LANTERN_CORS_ORIGINS, and never allows credentials", async () => {
  {
    await using server = await startServer({
      LANTERN_CORS_ORIGINS: "https://app.example, https://other.example",
    });
    const { url } = server;
    const preflight = await fetch(`${url}/api/projects`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/i);
    assert.equal(preflight.headers.get("access-control-allow-credentials"), null);

    const allowed = await fetch(`${url}/api/projects`, {
      method: "POST",
      headers: { origin: "https://app.example", "content-type": "application/json" },
      body: '{"name":"From the app"}',
    });
    await allowed.body?.cancel();
    assert.equal(allowed.status, 201, "an allowed origin may post");
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(allowed.headers.get("access-control-allow-credentials"), null);

    const other = await fetch(`${url}/api/projects`, { headers: { origin: "https://evil.example" } });
    await other.body?.cancel();
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const refused = await fetch(`${url}/api/projects`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 403);
  }
  {
    await using server = await startServer({ LANTERN_CORS_ORIGINS: "*" });
    const res = await fetch(`${server.url}/api/projects`, { headers: { origin: "https://any.example" } });
    await res.body?.cancel();
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
  }
  {
    await using server = await startServer();
    const res = await fetch(`${server.url}/api/projects`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    await res.body?.cancel();
    assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS unless configured");
    const read = await fetch(`${server.url}/api/projects`, { headers: { origin: "https://app.example" } });
    await read.body?.cancel();
    assert.equal(read.status, 200);
    assert.equal(
      read.headers.get("access-control-allow-origin"),
      null,
      "no CORS on a read unless configured",
    );
  }
});
