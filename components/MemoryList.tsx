import type { Memory } from "../lib/protocol.ts";

/** The project's memories, each with a button to forget it when `onForget` is given. */
export function MemoryList(
  { memories, onForget }: { memories: Memory[]; onForget?: (m: Memory) => void },
) {
  if (memories.length === 0) return <p class="empty">Nothing remembered yet.</p>;
  return (
    <ul class="memories" data-memories>
      {memories.map((m) => (
        <li key={m.id} data-memory={m.id}>
          <span>{m.text}</span>
          {onForget && (
            <button
              type="button"
              class="link"
              onClick={() => onForget(m)}
              aria-label={`Forget "${m.text}"`}
            >
              Forget
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
