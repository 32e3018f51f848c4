/**
 * Security headers on every kind of response, and pages that a strict
 * Content-Security-Policy does not break: no inline script, handler or style.
 */

import { assetUrl } from "../lib/assets.ts";
import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY } from "../lib/http/security_headers.ts";
import { createProject, startServer } from "./helpers.ts";

const EXPECTED_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

function assertHeaders(what: string, headers: Headers): void {
  assert.equal(headers.get("content-security-policy"), EXPECTED_CSP, what);
  assert.equal(headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(headers.get("referrer-policy"), "same-origin", what);
  assert.equal(headers.get("x-frame-options"), "DENY", what);
}

Deno.test("every kind of response carries the security headers", async () => {
  assert.equal(CONTENT_SECURITY_POLICY, EXPECTED_CSP);
  await using server = await startServer();
  const { url } = server;
  const project = await createProject(url);
  const runStart = await fetch(`${url}/api/projects/${project.id}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"message":"Hello"}',
  });
  const { eventsUrl } = await runStart.json();
  // What each request is, and the status that makes it that kind of response.
  const requests: [string, string, number, RequestInit?][] = [
    ["the home page", "/", 200],
    ["a project page", `/projects/${project.id}`, 200],
    ["a missing project page", "/projects/nope", 404],
    ["the API", "/api/projects", 200],
    ["an event stream", eventsUrl, 200],
    ["a static file", "/static/styles.css", 200],
    ["the island script", assetUrl("client.js"), 200],
    ["an API 404", "/api/projects/nope", 404],
    ["a 405", "/api/projects", 405, { method: "PUT" }],
    ["a 415", "/api/projects", 415, { method: "POST", body: "x", headers: { "content-type": "text/plain" } }],
    ["a 413", "/api/projects", 413, {
      method: "POST",
      body: "x".repeat(70_000),
      headers: { "content-type": "application/json" },
    }],
    ["a 403", "/api/projects", 403, { method: "POST", headers: { origin: "https://evil.example" } }],
    ["a form redirect", "/projects", 303, {
      method: "POST",
      body: "name=A",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    }],
    ["a refused path", "/static/a%00b", 404],
  ];
  for (const [what, path, status, init] of requests) {
    const res = await fetch(url + path, init);
    await res.body?.cancel();
    assert.equal(res.status, status, what);
    assertHeaders(`${what} (${res.status})`, res.headers);
  }
  const preflightServer = await startServer({ LANTERN_CORS_ORIGINS: "https://app.example" });
  try {
    const res = await fetch(`${preflightServer.url}/api/projects`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    await res.body?.cancel();
    assertHeaders("a CORS preflight", res.headers);
  } finally {
    await preflightServer.close();
  }
});

Deno.test("with a token, redirects, 401s, 429s and the sign-in page carry them too", async () => {
  await using server = await startServer({
    LANTERN_TOKEN: "headers-token-1234567890",
    LANTERN_RATE_SIGN_IN_PER_MIN: "1",
  });
  const { url } = server;
  const form = { "content-type": "application/x-www-form-urlencoded", origin: url };
  const requests: [string, string, RequestInit?][] = [
    ["a redirect to sign in", "/", { redirect: "manual" }],
    ["the sign-in page", "/sign-in"],
    ["a 401", "/api/projects"],
    ["a wrong token", "/sign-in", { method: "POST", headers: form, body: "token=nope" }],
    ["a 429", "/sign-in", { method: "POST", headers: form, body: "token=nope" }],
  ];
  for (const [what, path, init] of requests) {
    const res = await fetch(url + path, init);
    await res.body?.cancel();
    assertHeaders(`${what} (${res.status})`, res.headers);
  }
});

/** Every attribute of every tag (quoted values may hold anything but their quote). */
function* attributes(html: string): Generator<{ tag: string; name: string; value: string }> {
  const tag = /<([a-zA-Z][\w-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*\/?>/g;
  const attribute = /\s+([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?/g;
  for (const [, name = "", list = ""] of html.matchAll(tag)) {
    for (const [, attr = "", value = ""] of list.matchAll(attribute)) yield { tag: name, name: attr, value };
  }
}

Deno.test("pages have no inline script, event handler or style for the policy to block", async () => {
  await using server = await startServer({ LANTERN_TOKEN: "inline-token-1234567890" });
  const { url } = server;
  const auth = { authorization: "Bearer inline-token-1234567890" };
  const project = await (await fetch(`${url}/api/projects`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "</script><script>alert(1)</script>" }),
  })).json();
  await (await fetch(`${url}/api/projects/${project.id}/chat`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ message: "Remember that <img src=x onerror=alert(1)> is text" }),
  })).body?.cancel();
  for (const path of ["/", `/projects/${project.id}`, "/sign-in"]) {
    const html = await (await fetch(url + path, { headers: auth })).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    for (const [, attributes = "", body = ""] of scripts) {
      const external = /\ssrc="\/static\/[^"]+"/.test(attributes) && body.trim() === "";
      const data = /\stype="application\/json"/.test(attributes);
      assert.ok(external || data, `${path}: an inline script <script${attributes}>`);
      if (data) JSON.parse(body.replace(/\\u003c/g, "<"));
    }
    assert.equal(html.match(/<script\b/gi)?.length ?? 0, scripts.length, `${path}: an unclosed script`);
    let seen = 0;
    for (const { tag, name, value } of attributes(html)) {
      seen++;
      assert.ok(!/^on/i.test(name), `${path}: an inline event handler on <${tag}>: ${name}=${value}`);
      assert.notEqual(name.toLowerCase(), "style", `${path}: an inline style on <${tag}>`);
    }
    assert.ok(seen > 10, `${path}: only ${seen} attributes read`);
    assert.doesNotMatch(html, /<style\b/i, `${path}: a style element`);
    assert.doesNotMatch(html, /javascript:/i, `${path}: a javascript: URL`);
    assert.doesNotMatch(html, /<img src=x/i, `${path}: user text became markup`);
  }
});
