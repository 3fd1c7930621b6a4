// Sliding-window geometry shared by conv2d and maxPool2d, with TensorFlow's padding rules.

export type Padding = "same" | "valid";

/** A size or strides option: one number for both axes, or [rows, columns]. */
export function pair(op: string, name: string, value: number | readonly [number, number]): [number, number] {
  const p = typeof value === "number" ? [value, value] : Array.isArray(value) && value.length === 2 ? [value[0], value[1]] : null;
  if (!p || !p.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`${op}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return p as [number, number];
}

export function checkPadding(op: string, padding: unknown): Padding {
  if (padding !== "same" && padding !== "valid") {
    throw new Error(`${op}: padding must be "same" or "valid", got ${JSON.stringify(padding)}`);
  }
  return padding;
}

export interface Axis {
  /** Output size. */
  out: number;
  /** Padding before (top or left). */
  before: number;
}

/**
 * One axis, as TensorFlow: 'same' gives ceil(in/stride) outputs and pads
 * max((out-1)*stride + k - in, 0) in total, the smaller half before; 'valid' gives
 * floor((in-k)/stride) + 1 outputs and needs k <= in (checked by the caller).
 */
export function axis(size: number, k: number, stride: number, padding: Padding): Axis {
  if (padding === "valid") return { out: Math.floor((size - k) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}
