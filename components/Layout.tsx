import type { ComponentChildren } from "preact";
import { assetUrl } from "../lib/assets.ts";

/** A skip link at the top of the page, for keyboard users. */
export interface SkipLink {
  href: string;
  label: string;
}

/** The lantern mark, in the header. */
function Mark() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
      <path
        fill="currentColor"
        d="M9 2h6v2h-1v1.1A7 7 0 0 1 19 12v6a3 3 0 0 1-3 3H8a3 3 0 0 1-3-3v-6a7 7 0 0 1 5-6.9V4H9zm3 6a2 2 0 0 0-2 2c0 1.5 2 4 2 4s2-2.5 2-4a2 2 0 0 0-2-2z"
      />
    </svg>
  );
}

/**
 * The page shell: landmarks, styles, font, skip links and the island script.
 * `heading` replaces the brand in the header (a project page puts its name
 * and the way back there); `skip` adds skip links after "Skip to content".
 */
export function Layout(
  { title, description, children, heading, script = false, skip = [] }: {
    title: string;
    description?: string;
    children: ComponentChildren;
    heading?: ComponentChildren;
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
        <meta
          name="description"
          content={description ??
            "Lantern: projects with a conversation and a memory, where you watch an assistant plan and do each step of its work."}
        />
        <link
          rel="preload"
          href={assetUrl("inter.woff2")}
          as="font"
          type="font/woff2"
          crossorigin="anonymous"
        />
        <link rel="stylesheet" href={assetUrl("styles.css")} />
        <link rel="icon" href={assetUrl("favicon.svg")} type="image/svg+xml" />
        {script && <script type="module" src={assetUrl("client.js")} />}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        {skip.map((link) => <a key={link.href} class="skip" href={link.href}>{link.label}</a>)}
        <header class="site-header">
          <div class={heading ? "header-inner wide" : "header-inner"}>
            {heading ?? (
              <a href="/" class="brand">
                <Mark />
                <span>Lantern</span>
              </a>
            )}
          </div>
        </header>
        <main id="main" tabIndex={-1}>{children}</main>
      </body>
    </html>
  );
}

/** The header of a project page: the way back, the project's name, the mark. */
export function ProjectHeading({ name }: { name: string }) {
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/" class="back">
          <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d="M10 3 5 8l5 5" fill="none" stroke="currentColor" stroke-width="1.8" />
          </svg>
          <span>Projects</span>
        </a>
      </nav>
      <h1 class="project-title">{name}</h1>
      <a href="/" class="brand brand-small" aria-label="Lantern, all projects">
        <Mark />
      </a>
    </>
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
