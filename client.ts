/**
 * The browser entry: hydrates each island rendered on the server with the
 * props the server left beside it in a `<script type="application/json">`.
 *
 * @module
 */

import { type ComponentType, h, hydrate } from "preact";

// Each island is its own chunk: a page loads only the islands it has.
const ISLANDS: Record<string, () => Promise<{ default: ComponentType<never> }>> = {
  ChatPanel: () => import("./islands/ChatPanel.tsx"),
  ProjectsLive: () => import("./islands/ProjectsLive.tsx"),
};

for (const root of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const load = ISLANDS[root.dataset.island ?? ""];
  const propsScript = document.getElementById(`${root.id}-props`);
  if (!load || !propsScript) continue;
  const props = JSON.parse(propsScript.textContent ?? "{}");
  const { default: component } = await load();
  hydrate(h(component as ComponentType<object>, props), root);
}
