/**
 * Smooth weighted round-robin (the algorithm nginx uses for `weight=`): deterministic, and spread evenly, so
 * with weights 90/10 exactly one request in every ten goes to the 10% side, never two in a row. Pure.
 */
export type Weights = Readonly<Record<string, number>>;

export class SmoothWeightedPicker {
  private weights: Record<string, number> = {};
  private current: Record<string, number> = {};

  constructor(weights: Weights) {
    this.set(weights);
  }

  /** Replaces the weights (non-negative integers) and restarts the sequence. */
  set(weights: Weights): void {
    for (const [name, w] of Object.entries(weights)) {
      if (!Number.isInteger(w) || w < 0) throw new RangeError(`weight of '${name}' must be an integer >= 0, not ${w}`);
    }
    this.weights = { ...weights };
    this.current = Object.fromEntries(Object.keys(weights).map((k) => [k, 0]));
  }

  get(): Weights {
    return { ...this.weights };
  }

  /** The next upstream, or undefined when every weight is zero. */
  pick(): string | undefined {
    let total = 0;
    let best: string | undefined;
    for (const [name, w] of Object.entries(this.weights)) {
      if (w <= 0) continue;
      total += w;
      this.current[name] = (this.current[name] ?? 0) + w;
      if (best === undefined || this.current[name]! > this.current[best]!) best = name;
    }
    if (best !== undefined) this.current[best]! -= total;
    return best;
  }
}
