// Argument checks shared by the layers.

export type Activation = "linear" | "relu";

export function checkActivation(owner: string, activation: string | null | undefined): Activation {
  const a = activation ?? "linear";
  if (a !== "linear" && a !== "relu") throw new Error(`${owner}: activation must be "relu" or "linear" (or omitted), got ${JSON.stringify(activation)}`);
  return a;
}

/** A size given as n or [a, b], as [a, b] of positive integers. */
export function pair(owner: string, name: string, value: number | readonly number[]): [number, number] {
  const p = typeof value === "number" ? [value, value] : [...value];
  if (p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${owner}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [p[0], p[1]];
}
