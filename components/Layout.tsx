import type { ComponentChildren } from "preact";

/** The one script a page with islands loads; `deno task size` measures it and its chunks. */
export const ISLAND_SCRIPT = "/static/islands/client.js";

/** A skip link at the top of the page, for keyboard users. */
export interface SkipLink {
  href: string;
  label: string;
}

/**
 * The page shell: landmarks, styles, skip links and the island script.
 * `skip` adds skip links after "Skip to content".
 */
export function Layout(
  { title, children, script = false, skip = [] }: {
    title: string;
    children: ComponentChildren;
    script?: boolean;
    skip?: SkipLink[];
  },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{title}</title>
        <link rel="stylesheet" href="/static/styles.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        {script && <script type="module" src={ISLAND_SCRIPT} />}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        {skip.map((link) => <a key={link.href} class="skip" href={link.href}>{link.label}</a>)}
        <header class="site-header">
          <a href="/" class="brand">
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path
                fill="currentColor"
                d="M9 2h6v2h-1v1.1A7 7 0 0 1 19 12v6a3 3 0 0 1-3 3H8a3 3 0 0 1-3-3v-6a7 7 0 0 1 5-6.9V4H9zm3 6a2 2 0 0 0-2 2c0 1.5 2 4 2 4s2-2.5 2-4a2 2 0 0 0-2-2z"
              />
            </svg>
            <span>Lantern</span>
          </a>
        </header>
        <main id="main" tabIndex={-1}>{children}</main>
      </body>
    </html>
  );
}

/** Island props as JSON that is safe inside a `<script>` element. */
export function IslandProps({ id, props }: { id: string; props: unknown }) {
  const json = JSON.stringify(props).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  // The JSON is escaped above so it cannot close the script element.
  // deno-lint-ignore react-no-danger
  return <script type="application/json" id={`${id}-props`} dangerouslySetInnerHTML={{ __html: json }} />;
}
