/**
 * Keeps the end of the page in view while a run goes: after every render,
 * unless the person scrolled up. Scrolling back to the end follows again; a
 * page that grows or reflows (a font arrives) does not stop it (a scroll that
 * comes with a change of the page's height is the browser keeping content in
 * place, not the person). The page opens on its end unless the address names
 * a place. A Preact hook.
 *
 * @module
 */

import { type ReadonlySignal, type Signal, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect } from "preact/hooks";

/** Scrolls to the end of the page. */
export function scrollToEnd(behavior: ScrollBehavior = "instant"): void {
  scrollTo({ top: document.documentElement.scrollHeight, behavior });
}

/**
 * Whether the view follows the end (false once the person scrolled up).
 *
 * @example
 * ```ts ignore
 * const atBottom = useFollowEnd(running, hydrated);
 * if (!atBottom.value) showJumpButton();
 * ```
 */
export function useFollowEnd(
  running: ReadonlySignal<boolean>,
  hydrated: ReadonlySignal<boolean>,
): Signal<boolean> {
  const atBottom = useSignal(true);
  useLayoutEffect(() => {
    if (hydrated.value && running.value && atBottom.value) scrollToEnd();
  });
  useEffect(() => {
    let lastY = scrollY;
    let lastHeight = document.documentElement.scrollHeight;
    const onScroll = () => {
      const y = scrollY;
      const height = document.documentElement.scrollHeight;
      if (y + innerHeight >= height - 48) atBottom.value = true;
      else if (y < lastY - 2 && height === lastHeight) atBottom.value = false;
      lastY = y;
      lastHeight = height;
    };
    addEventListener("scroll", onScroll, { passive: true });
    if (!location.hash) {
      scrollToEnd();
      document.fonts?.ready.then(() => atBottom.value && scrollToEnd());
    }
    return () => removeEventListener("scroll", onScroll);
  }, []);
  return atBottom;
}
