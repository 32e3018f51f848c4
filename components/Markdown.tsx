import { h, type VNode } from "preact";
import { useMemo } from "preact/hooks";
import { markdownTree, type MdNode } from "../lib/markdown.ts";

function toVNode(node: MdNode, key: number): VNode | string {
  if (typeof node === "string") return node;
  const children = node.children.map(toVNode);
  if (node.tag === "pre") {
    // A code block with its copy button (shown once the island runs; the
    // island handles the click for every block at once).
    return (
      <div class="code-block" key={key}>
        {h("pre", null, children)}
        <button type="button" class="copy" data-copy>Copy</button>
      </div>
    );
  }
  return h(node.tag, { ...node.attrs, key }, children.length ? children : undefined);
}

/**
 * An answer rendered from Markdown (lib/markdown.ts), the same on the server
 * and in the island. `streaming`: the text is still arriving, so markers at
 * its very end that are not decided yet are held back rather than shown raw.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const nodes = useMemo(() => markdownTree(text, !streaming), [text, streaming]);
  return <>{nodes.map(toVNode)}</>;
}
