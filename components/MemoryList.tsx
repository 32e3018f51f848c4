import type { Memory } from "../lib/protocol.ts";

/**
 * The project's memories. With `forgetUrl`, each has a Forget button in a
 * form that posts there (so it works without JavaScript); `onForget`, when
 * given, handles it in the page instead. Memories whose ids are in `fresh`
 * were just saved and are marked.
 */
export function MemoryList(
  { memories, forgetUrl, onForget, fresh = [] }: {
    memories: Memory[];
    forgetUrl?: (m: Memory) => string;
    onForget?: (m: Memory) => void;
    fresh?: readonly string[];
  },
) {
  if (memories.length === 0) return <p class="empty">Nothing remembered yet.</p>;
  return (
    <ul class="memories" data-memories>
      {memories.map((m) => (
        <li
          key={m.id}
          data-memory={m.id}
          data-source={m.source}
          class={fresh.includes(m.id) ? "fresh" : undefined}
        >
          <span class="memory-text">
            {m.text}
            {fresh.includes(m.id) && <span class="memory-tag">New</span>}
          </span>
          {forgetUrl && (
            <form
              method="post"
              action={forgetUrl(m)}
              onSubmit={onForget && ((e) => {
                e.preventDefault();
                onForget(m);
              })}
            >
              <button type="submit" class="link" aria-label={`Forget "${m.text}"`}>Forget</button>
            </form>
          )}
        </li>
      ))}
    </ul>
  );
}
