/**
 * Work that takes turns per key within this process: a piece of work waits
 * until every earlier piece holding any of its keys has settled. Writes that
 * check a KV value and update it (a feed's head, a project's count of
 * memories) take turns so that racing writers of one process do not cost each
 * other a retry each; other processes are still caught by the commit's check.
 *
 * @example
 * ```ts
 * import { Turns } from "./turns.ts";
 * const turns = new Turns();
 * const order: number[] = [];
 * await Promise.all([1, 2, 3].map((n) => turns.run(["p1"], async () => void order.push(n))));
 * console.log(order); // [ 1, 2, 3 ]
 * ```
 *
 * @module
 */

/** Per-key turns. See the module docs. */
export class Turns {
  #last = new Map<string, Promise<void>>();

  /** How many keys have work pending or running. */
  get size(): number {
    return this.#last.size;
  }

  /** Resolves once every work begun so far (and any begun meanwhile) has settled. */
  async settled(): Promise<void> {
    // The last work of a key settles only after every earlier one of that key.
    while (this.#last.size > 0) await Promise.all(this.#last.values());
  }

  /**
   * Takes the turn of `key` now, if no work holds it: returns the function
   * that gives it back (work waiting meanwhile then runs), else null.
   */
  take(key: string): (() => void) | null {
    return this.#last.has(key) ? null : this.#hold([key]);
  }

  /** Runs `work` once every earlier work holding one of `keys` has settled, and resolves with its result. */
  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((key) => this.#last.get(key));
    const release = this.#hold(unique);
    try {
      await Promise.all(before);
      return await work();
    } finally {
      release();
    }
  }

  /** Makes `keys` wait for new work; returns what ends that work's turn. */
  #hold(keys: readonly string[]): () => void {
    const { promise, resolve } = Promise.withResolvers<void>();
    for (const key of keys) this.#last.set(key, promise);
    return () => {
      resolve();
      for (const key of keys) if (this.#last.get(key) === promise) this.#last.delete(key);
    };
  }
}
