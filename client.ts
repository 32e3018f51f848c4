/**
 * The browser entry: hydrates each island rendered on the server with the
 * props the server left beside it in a `<script type="application/json">`.
 *
 * @module
 */

import { h, hydrate } from "preact";
import ChatPanel from "./islands/ChatPanel.tsx";

const ISLANDS = { ChatPanel } as const;

for (const root of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = root.dataset.island as keyof typeof ISLANDS;
  const component = ISLANDS[name];
  const propsScript = document.getElementById(`${root.id}-props`);
  if (!component || !propsScript) continue;
  const props = JSON.parse(propsScript.textContent ?? "{}");
  hydrate(h(component, props), root);
}
