/**
 * Markdown to safe HTML for answers: raw HTML is escaped, never passed
 * through; links that are not http(s), mailto, `#…` or same-site paths are
 * left as text; external links open in a new tab without leaking the page
 * (`rel="noopener noreferrer nofollow"`); images become links, so showing an
 * answer never fetches anything.
 *
 * @module
 */

import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: true });
const SAFE_LINK = /^(https?:|mailto:|#|\/(?!\/))/i;
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());
const defaultLinkOpen = md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  // Only links that leave the app open in a new tab; "#top" and "/projects/…" stay here.
  if (/^https?:/i.test(String(token.attrGet("href") ?? ""))) {
    token.attrSet("rel", "noopener noreferrer nofollow");
    token.attrSet("target", "_blank");
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
// An image in an answer would be fetched from wherever its text points, as
// soon as it is shown (a tracking pixel): it becomes a link to it instead.
md.renderer.rules.image = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  const src = String(token.attrGet("src") ?? "");
  const alt = String(self.renderInlineAsText(token.children ?? [], options, _env) || src);
  const external = /^https?:/i.test(src) ? ' rel="noopener noreferrer nofollow" target="_blank"' : "";
  return `<a href="${md.utils.escapeHtml(src)}"${external}>${md.utils.escapeHtml(alt)}</a>`;
};

/**
 * Renders Markdown to HTML that is safe to insert into the page.
 *
 * @example
 * ```ts
 * import { renderMarkdown } from "./markdown.ts";
 * console.log(renderMarkdown("**hi** <script>x</script>"));
 * // <p><strong>hi</strong> &lt;script&gt;x&lt;/script&gt;</p>
 * ```
 */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
