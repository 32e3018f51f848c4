/**
 * Answers as Markdown, the same way while they stream and once they are
 * complete, on the server and in the browser: `streaming-markdown` parses the
 * text into a small tree ({@linkcode markdownTree}) that the page renders
 * (components/Markdown.tsx) and that {@linkcode renderMarkdown} turns into an
 * HTML string.
 *
 * The parser is optimistic, so a half-received answer never shows raw
 * syntax: `**bo` is already bold, an open code fence is already a code block,
 * and markers it cannot decide yet (a lone `*`, a `-` at the start of a line)
 * wait until the next characters say what they are.
 *
 * Safe by construction: text is only ever text (raw HTML shows as written);
 * links that are not http(s), mailto, `#…` or same-site paths stay plain
 * text; external links open in a new tab without leaking the page; images
 * become links, so showing an answer never fetches anything.
 *
 * @module
 */

import { parser, parser_end, parser_write } from "streaming-markdown";

/** One node of an answer: text, or an element with safe attributes. */
export type MdNode = string | MdElement;

/** An element of an answer's tree. */
export interface MdElement {
  tag: string;
  attrs: Record<string, string>;
  children: MdNode[];
}

// streaming-markdown's token numbers (its `Token` enum), to tag names.
const TAGS: Record<number, string> = {
  2: "p",
  3: "h1",
  4: "h2",
  5: "h3",
  6: "h4",
  7: "h5",
  8: "h6",
  9: "code",
  10: "code",
  11: "code",
  12: "em",
  13: "em",
  14: "strong",
  15: "strong",
  16: "s",
  17: "a",
  18: "a",
  19: "a",
  20: "blockquote",
  21: "br",
  22: "hr",
  23: "ul",
  24: "ol",
  25: "li",
  26: "span",
  27: "table",
  28: "tr",
  29: "td",
  30: "code",
  31: "code",
};
const CODE_BLOCKS = new Set([9, 10, 30]);
const ROW = 28, CHECKBOX = 26;
const HREF = 1, SRC = 2, LANG = 4, CHECKED = 8, START = 16;

const SAFE_LINK = /^(https?:|mailto:|#|\/(?!\/))/i;
const EXTERNAL = /^https?:/i;

function element(tag: string, children: MdNode[] = []): MdElement {
  return { tag, attrs: {}, children };
}

/**
 * The tree of `text`. With `complete` false (an answer still streaming),
 * markers at the very end that are not decided yet are left out instead of
 * shown raw.
 *
 * @example
 * ```ts
 * import { markdownTree } from "./markdown.ts";
 * console.log(JSON.stringify(markdownTree("**bo", false)));
 * // [{"tag":"p","attrs":{},"children":[{"tag":"strong","attrs":{},"children":["bo"]}]}]
 * ```
 */
export function markdownTree(text: string, complete = true): MdNode[] {
  const final = parse(text, true);
  if (complete) return final;
  // What the parser holds back at the end is often plain (a closing "." it
  // checks for a URL); then the partial render is already the final one, and
  // nothing changes when the answer completes.
  const partial = parse(text, false);
  const shown = plainText(partial);
  const whole = plainText(final);
  return whole.startsWith(shown) && /^[\p{L} .,!?;:'")]*$/u.test(whole.slice(shown.length)) ? final : partial;
}

/**
 * The text of a tree, without markup.
 *
 * @example
 * ```ts
 * import { markdownTree, plainText } from "./markdown.ts";
 * console.log(plainText(markdownTree("**a** b"))); // a b
 * ```
 */
export function plainText(nodes: MdNode[]): string {
  return nodes.map((n) => typeof n === "string" ? n : plainText(n.children)).join("");
}

function parse(text: string, complete: boolean): MdNode[] {
  const root = element("div");
  // The node that takes children for each open token (a code block's is its <code>).
  const stack: MdElement[] = [root];
  const top = () => stack[stack.length - 1]!;
  const renderer = {
    data: null,
    add_token(_: unknown, type: number) {
      const parent = top();
      if (type === ROW) {
        // The first row is the head; the browser would add <tbody> itself,
        // so the tree says it, and hydration matches what the HTML parsed to.
        const head = parent.children.length === 0;
        let section = parent.children[head ? 0 : 1] as MdElement | undefined;
        if (!section) parent.children.push(section = element(head ? "thead" : "tbody"));
        const row = element("tr");
        section.children.push(row);
        stack.push(row);
        return;
      }
      const node = element(TAGS[type] ?? "span");
      if (CODE_BLOCKS.has(type)) parent.children.push(element("pre", [node]));
      else parent.children.push(node);
      if (type === CHECKBOX) node.children.push("☐ ");
      stack.push(node);
    },
    end_token() {
      if (stack.length > 1) stack.pop();
    },
    add_text(_: unknown, text: string) {
      const node = top();
      const last = node.children[node.children.length - 1];
      if (typeof last === "string") node.children[node.children.length - 1] = last + text;
      else node.children.push(text);
    },
    set_attr(_: unknown, type: number, value: string) {
      const node = top();
      if (type === HREF || type === SRC) {
        const url = value.trim();
        if (SAFE_LINK.test(url)) {
          node.attrs.href = url;
          if (EXTERNAL.test(url)) {
            Object.assign(node.attrs, { rel: "noopener noreferrer nofollow", target: "_blank" });
          }
        }
        if (type === SRC && node.children.length === 0) node.children.push(url);
      } else if (type === LANG) {
        const lang = value.trim().toLowerCase().replace(/[^a-z0-9_+-]/g, "");
        if (lang) node.attrs.class = `language-${lang}`;
      } else if (type === START && /^\d{1,9}$/.test(value)) {
        if (value !== "1") node.attrs.start = value;
      } else if (type === CHECKED) {
        node.children[0] = "☑ ";
      }
    },
  };
  const p = parser(renderer);
  parser_write(p, text);
  if (complete) parser_end(p);
  return tidy(root.children);
}

/** Headers of tables have <th> cells; links without a safe target are text. */
function tidy(nodes: MdNode[], inHead = false): MdNode[] {
  return nodes.map((node) => {
    if (typeof node === "string") return node;
    const head = inHead || node.tag === "thead";
    const tag = node.tag === "a" && !node.attrs.href ? "span" : node.tag === "td" && head ? "th" : node.tag;
    return { tag, attrs: node.attrs, children: tidy(node.children, head) };
  });
}

const VOID = new Set(["br", "hr"]);
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

function toHtml(node: MdNode): string {
  if (typeof node === "string") return escapeHtml(node);
  const attrs = Object.entries(node.attrs).map(([k, v]) => ` ${k}="${escapeHtml(v)}"`).join("");
  if (VOID.has(node.tag)) return `<${node.tag}${attrs}>`;
  return `<${node.tag}${attrs}>${node.children.map(toHtml).join("")}</${node.tag}>`;
}

/**
 * Renders Markdown to HTML that is safe to insert into the page (the same
 * tree the page renders, without its copy buttons).
 *
 * @example
 * ```ts
 * import { renderMarkdown } from "./markdown.ts";
 * console.log(renderMarkdown("**hi** <script>x</script>"));
 * // <p><strong>hi</strong> &lt;script&gt;x&lt;/script&gt;</p>
 * ```
 */
export function renderMarkdown(text: string): string {
  return markdownTree(text).map(toHtml).join("");
}
