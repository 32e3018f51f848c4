/**
 * Markdown to safe HTML for answers: raw HTML is escaped, never passed
 * through; links that are not http(s) or mailto are dropped; links open
 * without leaking the page (`rel="noopener noreferrer nofollow"`).
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
  token.attrSet("rel", "noopener noreferrer nofollow");
  token.attrSet("target", "_blank");
  return defaultLinkOpen(tokens, idx, options, env, self);
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
