/**
 * Small statistics helpers for the load harness: percentiles over raw
 * samples, and a growable sample buffer that does not allocate per sample.
 *
 * @module
 */

/** Percentile summary of a set of samples, in the samples' unit. */
export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** A growable buffer of float samples (amortised O(1) push, no boxing). */
export class Samples {
  #data: Float64Array;
  #length = 0;

  /** Makes an empty buffer with room for `capacity` samples before growing. */
  constructor(capacity = 1024) {
    this.#data = new Float64Array(Math.max(16, capacity));
  }

  /** Number of samples held. */
  get length(): number {
    return this.#length;
  }

  /** Adds one sample. */
  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  /** Adds every sample of another buffer or array. */
  pushAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.push(values[i]!);
  }

  /** A copy of the samples, as a plain typed array. */
  toArray(): Float64Array {
    return this.#data.slice(0, this.#length);
  }

  /** The samples rounded to `digits` decimals, for compact JSON. */
  toRounded(digits = 3): number[] {
    const f = 10 ** digits;
    const out: number[] = new Array(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = Math.round(this.#data[i]! * f) / f;
    return out;
  }

  /** Percentile summary of the samples. */
  summary(): Summary {
    return summarize(this.toArray());
  }
}

/**
 * The value at quantile `q` (0..1) of an ascending-sorted array, by the
 * nearest-rank method (so p100 is the max and every result is a sample).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index]!;
}

/** Percentile summary of any samples (the input is not modified). */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

/** `a / b`, or `null` when either side is missing or `b` is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) {
    return null;
  }
  return a / b;
}

/** The current time as epoch milliseconds with a sub-millisecond fraction. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
