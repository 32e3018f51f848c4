/**
 * Answers are Markdown rendered to HTML that is safe to put in the page, the
 * same while they stream and once they are complete.
 */

import assert from "node:assert/strict";
import { markdownTree, type MdNode, renderMarkdown } from "../lib/markdown.ts";

Deno.test("headings, lists, emphasis, quotes, tables and line breaks render", () => {
  assert.equal(renderMarkdown("# Title\n\n## Sub"), "<h1>Title</h1><h2>Sub</h2>");
  assert.equal(
    renderMarkdown("- a\n- b\n\n1. x\n2. y"),
    "<ul><li>a</li><li>b</li></ul><ol><li>x</li><li>y</li></ol>",
  );
  assert.equal(renderMarkdown("3. c\n4. d"), '<ol start="3"><li>c</li><li>d</li></ol>');
  assert.equal(renderMarkdown("**bold** _it_"), "<p><strong>bold</strong> <em>it</em></p>");
  assert.equal(renderMarkdown("> quote"), "<blockquote><p>quote</p></blockquote>");
  // An answer's single newlines are line breaks, as the user typed them.
  assert.equal(renderMarkdown("line1\nline2"), "<p>line1<br>line2</p>");
  assert.equal(
    renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |"),
    "<table><thead><tr><th> a </th><th> b </th></tr></thead><tbody><tr><td> 1 </td><td> 2 </td></tr></tbody></table>",
  );
});

Deno.test("code renders, with HTML inside it escaped", () => {
  assert.equal(renderMarkdown("`a<b>`"), "<p><code>a&lt;b&gt;</code></p>");
  assert.equal(
    renderMarkdown("```js\nlet a = '<b>';\n```"),
    "<pre><code class=\"language-js\">let a = '&lt;b&gt;';</code></pre>",
  );
  // A language name cannot smuggle an attribute.
  assert.equal(
    renderMarkdown('```js" onclick="x\nx\n```'),
    '<pre><code class="language-jsonclickx">x</code></pre>',
  );
});

Deno.test("links render; external ones open in a new tab without leaking the page", () => {
  assert.equal(
    renderMarkdown("[site](https://example.com)"),
    '<p><a href="https://example.com" rel="noopener noreferrer nofollow" target="_blank">site</a></p>',
  );
  assert.equal(
    renderMarkdown("see https://example.com/a?b=1"),
    '<p>see <a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow" target="_blank">' +
      "https://example.com/a?b=1</a></p>",
  );
  assert.equal(renderMarkdown("[mail](mailto:a@b.example)"), '<p><a href="mailto:a@b.example">mail</a></p>');
  assert.equal(renderMarkdown("[top](#top)"), '<p><a href="#top">top</a></p>');
  assert.equal(renderMarkdown("[p](/projects/1)"), '<p><a href="/projects/1">p</a></p>');
});

Deno.test("raw HTML is shown as text, never passed through", () => {
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
  assert.equal(renderMarkdown("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
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
    '<p><a href="https://example.com/c.png" rel="noopener noreferrer nofollow" target="_blank">chart</a></p>',
  );
  assert.equal(
    renderMarkdown('![a "b" <c>](/x.png)'),
    '<p><a href="/x.png">a &quot;b&quot; &lt;c&gt;</a></p>',
  );
  assert.ok(!renderMarkdown("![](https://example.com/pixel.gif)").includes("<img"));
});

/** The text a reader sees, block by block (each block on its own line). */
function visibleText(nodes: MdNode[]): string {
  const BLOCKS = new Set(["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr"]);
  return nodes.map((n) =>
    typeof n === "string" ? n : BLOCKS.has(n.tag) ? `\n${visibleText(n.children)}\n` : visibleText(n.children)
  ).join("");
}

const ANSWERS = [
  "Got it. I'll remember: **The launch is on May 3**",
  "## Launch plan\n\n**What I remember** (2 memories):\n\n- The launch is on May 3\n- The demo is in room 4\n\n" +
  "**Conversation:** 9 messages so far, 5 from you.",
  "Run it like this:\n\n```sh\ndeno task start\n```\n\nThen open `localhost:8000` and **say hi**.\n\n1. one\n2. two",
  "I can't do that. Try:\n\n* Remember that X\n* What do you know about X?\n\n_Tip_: ask **anything**.",
];

Deno.test("no prefix of an answer shows raw syntax while it streams", () => {
  for (const answer of ANSWERS) {
    for (let end = 1; end <= answer.length; end++) {
      const shown = visibleText(markdownTree(answer.slice(0, end), false));
      const where = `after ${end} characters of ${JSON.stringify(answer)}: ${JSON.stringify(shown)}`;
      assert.ok(!shown.includes("**"), `raw ** ${where}`);
      assert.ok(!shown.includes("```"), `a raw code fence ${where}`);
      assert.ok(!/^\s*[-*] /m.test(shown), `a raw list marker ${where}`);
      assert.ok(!/^#+ /m.test(shown), `a raw heading marker ${where}`);
    }
  }
});

Deno.test("the streamed render of a whole answer is its final render: nothing reflows at the end", () => {
  for (const answer of ANSWERS) {
    assert.deepEqual(markdownTree(answer, false), markdownTree(answer, true), answer);
  }
});

Deno.test("while streaming, each render keeps the blocks of the one before (text only grows)", () => {
  for (const answer of ANSWERS) {
    let before = "";
    for (let end = 1; end <= answer.length; end++) {
      const now = visibleText(markdownTree(answer.slice(0, end), false)).replace(/\s+/g, "");
      assert.ok(
        now.startsWith(before),
        `the text shrank at ${end}: ${JSON.stringify(before)} -> ${JSON.stringify(now)}`,
      );
      before = now;
    }
  }
});
