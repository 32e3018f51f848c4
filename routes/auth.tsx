/**
 * `/sign-in` and `/sign-out`: the browser trades the token for a session
 * cookie once (an `EventSource` cannot send an `Authorization` header). The
 * form works without JavaScript; wrong attempts are rate limited per client.
 * Signing out revokes the session in KV.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";
import {
  type Authenticator,
  hasSession,
  readCookie,
  safeNext,
  SESSION_COOKIE,
  SIGN_IN_PATH,
} from "../lib/http/auth.ts";
import { readForm } from "../lib/http/body.ts";
import { clientKey } from "../lib/http/client.ts";
import type { AppDeps } from "../lib/http/deps.ts";
import type { RateLimiter } from "../lib/http/rate_limit.ts";
import { SignInForm } from "../lib/schemas.ts";

/** What the sign-in routes need besides the app's dependencies. */
export interface AuthRouteOptions {
  /** Null when no token is configured: the sign-in page then just goes home. */
  auth: Authenticator | null;
  /** Failed attempts per client, shared with the bearer-token check. */
  failures: RateLimiter | null;
}

function SignInPage({ next, error }: { next: string; error?: string }) {
  return (
    <Layout title="Sign in · Lantern">
      <section class="panel intro" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in</h1>
        <p class="muted">This Lantern is private. Enter its token (the value of LANTERN_TOKEN).</p>
        {error && <p class="notice" role="alert">{error}</p>}
        <form method="post" action={SIGN_IN_PATH} class="inline-form" data-sign-in>
          <input type="hidden" name="next" value={next} />
          <label for="token">Token</label>
          <input
            id="token"
            name="token"
            type="password"
            required
            maxLength={1024}
            autocomplete="current-password"
            autofocus
          />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}

function page(c: Context, next: string, status: 200 | 400 | 401 | 429, error?: string): Response {
  c.header("cache-control", "no-store");
  return c.html("<!DOCTYPE html>" + renderToString(<SignInPage next={next} error={error} />), status);
}

/** Registers `GET /sign-in`, `POST /sign-in` and `POST /sign-out`. */
export function authRoutes(app: Hono, _deps: AppDeps, { auth, failures }: AuthRouteOptions): void {
  app.get(SIGN_IN_PATH, async (c) => {
    const next = safeNext(c.req.query("next"));
    if (!auth || await hasSession(auth, c)) return c.redirect(next, 303);
    return page(c, next, 200);
  });

  app.post(SIGN_IN_PATH, async (c) => {
    if (!auth) {
      await c.req.raw.body?.cancel().catch(() => {});
      return c.redirect("/", 303);
    }
    const client = clientKey(c);
    const form = await readForm(c.req.raw);
    const next = safeNext(form.next);
    const parsed = SignInForm.safeParse(form);
    if (!parsed.success) return page(c, next, 400, parsed.error.issues[0]?.message ?? "Enter the token.");
    // The right token first (see requireAuth); a wrong one past the limit gets 429.
    if (!(await auth.checkToken(parsed.data.token))) {
      const allowed = failures?.take(client);
      if (allowed && !allowed.ok) {
        c.header("retry-after", String(allowed.retryAfterSeconds));
        return page(c, next, 429, `Too many attempts; try again in ${allowed.retryAfterSeconds} seconds.`);
      }
      return page(c, next, 401, "That token is not right.");
    }
    c.header("set-cookie", auth.sessionCookie(await auth.issueSession()));
    c.header("cache-control", "no-store");
    return c.redirect(next, 303);
  });

  app.post("/sign-out", async (c) => {
    await c.req.raw.body?.cancel().catch(() => {});
    const session = readCookie(c.req.header("cookie"), SESSION_COOKIE);
    // Revoked in KV, so a copy of the cookie kept elsewhere stops working too.
    if (auth && session !== undefined) await auth.revokeSession(session);
    if (auth) c.header("set-cookie", auth.clearCookie());
    return c.redirect(auth ? SIGN_IN_PATH : "/", 303);
  });
}
