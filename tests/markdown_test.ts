/**
 * Answers are Markdown rendered to HTML that is safe to put in the page.
 */

import assert from "node:assert/strict";
import { renderMarkdown } from "../lib/markdown.ts";

Deno.test("headings, lists, emphasis, quotes, tables and line breaks render", () => {
  assert.equal(renderMarkdown("# Title\n\n## Sub"), "<h1>Title</h1>\n<h2>Sub</h2>\n");
  assert.equal(
    renderMarkdown("- a\n- b\n\n1. x\n2. y"),
    "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>x</li>\n<li>y</li>\n</ol>\n",
  );
  assert.equal(renderMarkdown("**bold** _it_"), "<p><strong>bold</strong> <em>it</em></p>\n");
  assert.equal(renderMarkdown("> quote"), "<blockquote>\n<p>quote</p>\n</blockquote>\n");
  // An answer's single newlines are line breaks, as the user typed them.
  assert.equal(renderMarkdown("line1\nline2"), "<p>line1<br>\nline2</p>\n");
  assert.match(renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |"), /<table>[\s\S]*<td>2<\/td>/);
});

Deno.test("code renders, with HTML inside it escaped", () => {
  assert.equal(renderMarkdown("`a<b>`"), "<p><code>a&lt;b&gt;</code></p>\n");
  assert.equal(
    renderMarkdown("```js\nlet a = '<b>';\n```"),
    "<pre><code class=\"language-js\">let a = '&lt;b&gt;';\n</code></pre>\n",
  );
});

Deno.test("links render; external ones open in a new tab without leaking the page", () => {
  assert.equal(
    renderMarkdown("[site](https://example.com)"),
    '<p><a href="https://example.com" rel="noopener noreferrer nofollow" target="_blank">site</a></p>\n',
  );
  assert.equal(
    renderMarkdown("see https://example.com/a?b=1"),
    '<p>see <a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow" target="_blank">' +
      "https://example.com/a?b=1</a></p>\n",
  );
  assert.equal(
    renderMarkdown("[mail](mailto:a@b.example)"),
    '<p><a href="mailto:a@b.example">mail</a></p>\n',
  );
  assert.equal(renderMarkdown("[top](#top)"), '<p><a href="#top">top</a></p>\n');
  assert.equal(renderMarkdown("[p](/projects/1)"), '<p><a href="/projects/1">p</a></p>\n');
});

Deno.test("raw HTML is escaped, never passed through", () => {
  for (
    const html of [
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      '<a href="javascript:alert(1)">a</a>',
      "<iframe src=//evil.example></iframe>",
      "<svg onload=alert(1)>",
      "<style>body{display:none}</style>",
    ]
  ) {
    const out = renderMarkdown(html);
    assert.ok(!/<(?:script|img|a|iframe|svg|style)\b/i.test(out), `${html} -> ${out}`);
    assert.ok(out.includes("&lt;"), out);
  }
  assert.equal(renderMarkdown("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
  assert.equal(renderMarkdown("<img src=x onerror=alert(1)>"), "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n");
});

Deno.test("javascript:, data:, vbscript: and protocol-relative links are not linked", () => {
  for (
    const link of [
      "[x](javascript:alert(1))",
      "[x](JAVASCRIPT:alert(1))",
      "[x](  javascript:alert(1))",
      "[x](&#106;avascript:alert(1))",
      "[x](javascript&colon;alert(1))",
      "[x](data:text/html,<script>alert(1)</script>)",
      "[x](vbscript:msgbox)",
      "[x](file:///etc/passwd)",
      "[x](//evil.example)",
      "<javascript:alert(1)>",
      "![x](javascript:alert(1))",
    ]
  ) {
    const out = renderMarkdown(link);
    assert.ok(!out.includes("<a "), `${link} was linked: ${out}`);
    assert.ok(!out.includes("<img"), `${link} became an image: ${out}`);
  }
});

Deno.test("images become links, so showing an answer fetches nothing", () => {
  assert.equal(
    renderMarkdown("![chart](https://example.com/c.png)"),
    '<p><a href="https://example.com/c.png" rel="noopener noreferrer nofollow" target="_blank">chart</a></p>\n',
  );
  assert.equal(
    renderMarkdown('![a "b" <c>](/x.png)'),
    '<p><a href="/x.png">a &quot;b&quot; &lt;c&gt;</a></p>\n',
  );
  assert.ok(!renderMarkdown("![](https://example.com/pixel.gif)").includes("<img"));
});
