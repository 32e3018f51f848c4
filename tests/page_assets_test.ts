/**
 * Assets like a production site: content-hashed names cached for a year,
 * Brotli and gzip made at build time and chosen by `Accept-Encoding`, pages
 * compressed as they go out. (Event streams are never compressed:
 * stream_test.ts and api_test.ts prove that.)
 */

import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { assetUrl } from "../lib/assets.ts";
import { acceptedEncodings } from "../lib/http/static_assets.ts";
import { createProject, startServer } from "./helpers.ts";

async function raw(url: string, acceptEncoding: string | null) {
  const res = await fetch(url, {
    headers: acceptEncoding === null ? {} : { "accept-encoding": acceptEncoding },
  });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

Deno.test("the page links hashed assets, served immutable for a year", async () => {
  await using server = await startServer();
  const html = await (await fetch(server.url)).text();
  for (const name of ["client.js", "styles.css", "inter.woff2", "favicon.svg"]) {
    const url = assetUrl(name);
    assert.match(url, /^\/static\/dist\/[\w-]+\.[0-9a-f]{10}\.\w+$/, `${name} has no hashed name: ${url}`);
    if (name !== "client.js") assert.ok(html.includes(url), `the home page does not link ${url}`);
    const res = await fetch(server.url + url);
    await res.body?.cancel();
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable", url);
  }
  const project = await createProject(server.url);
  const page = await (await fetch(`${server.url}/projects/${project.id}`)).text();
  assert.ok(page.includes(`<script type="module" src="${assetUrl("client.js")}">`));
  // The styles point at the hashed font.
  const css = await (await fetch(server.url + assetUrl("styles.css"))).text();
  assert.ok(css.includes(assetUrl("inter.woff2")), "the styles do not name the hashed font");
});

Deno.test("text assets come as Brotli or gzip by Accept-Encoding, with Vary, and decode to the file", async () => {
  await using server = await startServer();
  // The largest script: the project page's island chunk (the entry itself is a small loader).
  const chunk = [...Deno.readDirSync("static/dist")].find((e) => /^ChatPanel-[\w-]+\.js$/.test(e.name))!.name;
  const path = `/static/dist/${chunk}`;
  const url = server.url + path;
  const plain = await raw(url, "identity");
  assert.equal(plain.res.headers.get("content-encoding"), null);
  assert.equal(plain.res.headers.get("vary"), "Accept-Encoding");
  assert.equal(plain.res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(Number(plain.res.headers.get("content-length")), plain.bytes.byteLength);

  // (Deno's fetch decodes bodies itself: what went over the wire is the file
  // the build made, which decodes to the plain one.)
  const file = `.${path}`;
  const br = await raw(url, "gzip, deflate, br");
  assert.equal(br.res.headers.get("content-encoding"), "br");
  assert.equal(br.res.headers.get("vary"), "Accept-Encoding");
  const brFile = await Deno.readFile(`${file}.br`);
  assert.equal(Number(br.res.headers.get("content-length")), brFile.byteLength);
  assert.deepEqual(new Uint8Array(brotliDecompressSync(brFile)), plain.bytes);
  assert.deepEqual(br.bytes, plain.bytes);
  assert.ok(brFile.byteLength < plain.bytes.byteLength / 2, "Brotli did not shrink the bundle");

  const gz = await raw(url, "gzip");
  assert.equal(gz.res.headers.get("content-encoding"), "gzip");
  const gzFile = await Deno.readFile(`${file}.gz`);
  assert.equal(Number(gz.res.headers.get("content-length")), gzFile.byteLength);
  assert.deepEqual(new Uint8Array(gunzipSync(gzFile)), plain.bytes);
  assert.deepEqual(gz.bytes, plain.bytes);

  const refused = await raw(url, "br;q=0, gzip;q=0");
  assert.equal(refused.res.headers.get("content-encoding"), null);
  // A font is compressed already: sent as it is.
  const font = await raw(server.url + assetUrl("inter.woff2"), "br, gzip");
  assert.equal(font.res.headers.get("content-encoding"), null);
  assert.equal(font.res.headers.get("content-type"), "font/woff2");
});

Deno.test("a static path that is not a file, or not safe, is a JSON 404", async () => {
  await using server = await startServer();
  for (
    const path of [
      "/static/dist/nope.js",
      "/static/dist",
      "/static/.hidden",
      "/static/dist/manifest.json.br.x",
    ]
  ) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 404, path);
    assert.equal((await res.json()).error.code, "not_found", path);
  }
});

Deno.test("pages are compressed on the fly for clients that accept it", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const gz = await raw(`${server.url}/projects/${project.id}`, "gzip");
  assert.equal(gz.res.headers.get("content-encoding"), "gzip");
  assert.match(gz.res.headers.get("vary") ?? "", /Accept-Encoding/i);
  assert.match(new TextDecoder().decode(gz.bytes), /^<!DOCTYPE html>/);
  const plain = await raw(`${server.url}/projects/${project.id}`, "identity");
  assert.equal(plain.res.headers.get("content-encoding"), null);
  assert.match(new TextDecoder().decode(plain.bytes), /^<!DOCTYPE html>/);
});

Deno.test("Accept-Encoding is read with its q-values", () => {
  assert.deepEqual([...acceptedEncodings("gzip, deflate, br")], ["gzip", "deflate", "br"]);
  assert.deepEqual([...acceptedEncodings("br;q=0, gzip;q=0.5")], ["gzip"]);
  assert.deepEqual([...acceptedEncodings("")], []);
  assert.deepEqual([...acceptedEncodings(null)], []);
});
