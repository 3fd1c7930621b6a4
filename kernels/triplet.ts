import { scaleRun } from "./runs";

// Triplet losses over an (n x n) distance matrix, as TF Addons computes them, in O(n²) memory.
//
// TF takes masked extremes over a whole row r of distances as
//   masked_min = min_j((r_j − max(r))·mask_j) + max(r),  masked_max = max_j((r_j − min(r))·mask_j) + min(r)
// in float32, and reduce_min/reduce_max split their gradient equally among tied elements. Entries
// outside the mask are exactly 0 in that product, so they tie with the extreme when it is 0 and
// absorb a share of the gradient that then vanishes (multiplied by the 0 mask). The part of the
// gradient that reaches the "+ max(r)" term (1 − |masked ties| / |all ties|) is split among the
// entries equal to max(r). These kernels reproduce exactly that, without TF's n²×n tile: per
// anchor they sort the negatives once and binary-search each positive's semi-hard negative.
//
// Gradients are written for a unit loss gradient (dgrad, n x n); the op scales them afterwards.

// -- sortable keys: (float bits made monotone) << 32 | column ------------------------------------

@inline function sortableBits(v: f32): u32 {
  const b = reinterpret<u32>(v);
  return (b & 0x80000000) ? ~b : (b | 0x80000000);
}

@inline function keyValue(key: u64): f32 {
  const s = <u32>(key >>> 32);
  return reinterpret<f32>((s & 0x80000000) ? (s ^ 0x80000000) : ~s);
}

@inline function keyColumn(key: u64): i32 {
  return <i32>(<u32>key);
}

@inline function keyAt(keys: usize, i: i32): u64 {
  return load<u64>(keys + (<usize>i << 3));
}

/**
 * Below this many keys an insertion sort is cheaper than the radix sort's three 8 KiB histograms
 * (a batch of 32 has at most 31 negatives an anchor).
 */
const INSERTION_SORT_MAX = 64;

/**
 * Sorts n u64 keys ascending by their high 32 bits (the value), ties in the order given (the
 * columns, ascending). Short runs: insertion sort on the whole key, which orders ties by column
 * just as the stable radix sort does. Otherwise LSD radix sort, 3 passes of 11 bits, ping-ponging
 * with tmp (n u64); hist: 2048 i32; passes whose digit is the same for every key are skipped.
 * Leaves the result in keys.
 */
function sortKeys(keys: usize, tmp: usize, n: i32, hist: usize): void {
  if (n <= INSERTION_SORT_MAX) {
    for (let i = 1; i < n; i++) {
      const k = keyAt(keys, i);
      let j = i - 1;
      while (j >= 0 && keyAt(keys, j) > k) {
        store<u64>(keys + (<usize>(j + 1) << 3), keyAt(keys, j));
        j--;
      }
      store<u64>(keys + (<usize>(j + 1) << 3), k);
    }
    return;
  }
  let src = keys;
  let dst = tmp;
  for (let shift: u64 = 32; shift < 64; shift += 11) {
    memory.fill(hist, 0, 2048 << 2);
    for (let i = 0; i < n; i++) {
      const h = hist + (<usize>((load<u64>(src + (<usize>i << 3)) >>> shift) & 2047) << 2);
      store<i32>(h, load<i32>(h) + 1);
    }
    if (n == 0 || load<i32>(hist + (<usize>((load<u64>(src) >>> shift) & 2047) << 2)) == n) continue;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const h = hist + (<usize>b << 2);
      const c = load<i32>(h);
      store<i32>(h, sum);
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = load<u64>(src + (<usize>i << 3));
      const h = hist + (<usize>((k >>> shift) & 2047) << 2);
      const at = load<i32>(h);
      store<i32>(h, at + 1);
      store<u64>(dst + (<usize>at << 3), k);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) memory.copy(keys, src, <usize>n << 3);
}

/** First index in [lo, hi) whose value is > x (values ascending). */
function upperBound(keys: usize, lo: i32, hi: i32, x: f32): i32 {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    if (keyValue(keyAt(keys, mid)) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** First index in [lo, hi) with f32(value − shift) > x (monotone in value). */
function upperBoundShifted(keys: usize, lo: i32, hi: i32, shift: f32, x: f32): i32 {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    if (keyValue(keyAt(keys, mid)) - shift > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** First index in [lo, hi) with f32(value − shift) >= x. */
function lowerBoundShifted(keys: usize, lo: i32, hi: i32, shift: f32, x: f32): i32 {
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    if (keyValue(keyAt(keys, mid)) - shift >= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

@inline function rowMax(row: usize, n: i32): f32 {
  let m = load<f32>(row);
  for (let j = 1; j < n; j++) m = max<f32>(m, load<f32>(row + (<usize>j << 2)));
  return m;
}

@inline function rowMin(row: usize, n: i32): f32 {
  let m = load<f32>(row);
  for (let j = 1; j < n; j++) m = min<f32>(m, load<f32>(row + (<usize>j << 2)));
  return m;
}

/** Adds g / (number of entries equal to value) to each entry of grow equal to value in row. */
function splitAmongEqual(row: usize, grow: usize, n: i32, value: f32, g: f64): void {
  if (g == 0) return;
  let count = 0;
  for (let j = 0; j < n; j++) if (load<f32>(row + (<usize>j << 2)) == value) count++;
  const share = <f32>(g / <f64>count);
  for (let j = 0; j < n; j++) {
    if (load<f32>(row + (<usize>j << 2)) == value) {
      const o = grow + (<usize>j << 2);
      store<f32>(o, load<f32>(o) + share);
    }
  }
}

@inline function zeroRow(grow: usize, n: i32): void {
  const z = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(grow + (<usize>j << 2), z);
  for (; j < n; j++) store<f32>(grow + (<usize>j << 2), 0);
}

/**
 * Semi-hard triplet loss (TF Addons' triplet_semihard_loss) over dist (n x n) and i32 labels.
 * Returns Σ over positive pairs (a, p) of max(margin + d(a,p) − d_neg(a,p), 0); the caller divides by
 * the number of positive pairs. When wantGrad, writes into dgrad the gradient of that sum times
 * `weight` (1 / number of positive pairs). Scratch: keys and tmp 8n bytes each, diff 8(n+1) bytes
 * (all 8-aligned), hist 8 KiB.
 */
export function triplet_semihard(dist: usize, labels: usize, n: i32, margin: f32, weight: f32,
                                 dgrad: usize, wantGrad: i32, keys: usize, tmp: usize, diff: usize, hist: usize): f64 {
  let total: f64 = 0;
  const w = <f64>weight;
  for (let a = 0; a < n; a++) {
    const row = dist + ((<usize>a * n) << 2);
    const grow = dgrad + ((<usize>a * n) << 2);
    if (wantGrad) zeroRow(grow, n);
    const la = load<i32>(labels + (<usize>a << 2));
    let npos = 0;
    let nneg = 0;
    for (let j = 0; j < n; j++) {
      const lj = load<i32>(labels + (<usize>j << 2));
      if (lj != la) {
        const v = load<f32>(row + (<usize>j << 2));
        store<u64>(keys + (<usize>nneg << 3), (<u64>sortableBits(v) << 32) | <u64>(<u32>j));
        nneg++;
      } else if (j != a) npos++;
    }
    if (npos == 0) continue;
    sortKeys(keys, tmp, nneg, hist);
    const rmax = rowMax(row, n);
    const rmin = rowMin(row, n);

    // negatives_inside: masked max over negatives (TF: max((r − min r)·neg) + min r).
    const umax: f32 = nneg > 0 ? keyValue(keyAt(keys, nneg - 1)) - rmin : 0;
    const inside: f32 = umax + rmin;
    const insideLo = nneg > 0 ? lowerBoundShifted(keys, 0, nneg, rmin, umax) : 0;
    const insideTies = nneg - insideLo;
    const insideCount = insideTies + (umax == 0 ? n - nneg : 0);

    if (wantGrad) for (let i = 0; i <= nneg; i++) store<f64>(diff + (<usize>i << 3), 0);
    let gMax: f64 = 0; // gradient reaching max(r)
    let gInside: f64 = 0; // gradient reaching negatives_inside

    for (let p = 0; p < n; p++) {
      if (p == a || load<i32>(labels + (<usize>p << 2)) != la) continue;
      const dap = load<f32>(row + (<usize>p << 2));
      const lo = upperBound(keys, 0, nneg, dap);
      let semi: f32;
      let vmin: f32 = 0;
      if (lo < nneg) {
        // negatives_outside: masked min over negatives farther than the positive.
        vmin = keyValue(keyAt(keys, lo)) - rmax;
        semi = vmin + rmax;
      } else {
        semi = inside;
      }
      const lossValue: f32 = margin + (dap - semi);
      if (lossValue < 0) continue; // TF's maximum(x, 0) passes the gradient at x == 0
      total += <f64>lossValue;
      if (!wantGrad) continue;
      const gp = grow + (<usize>p << 2);
      store<f32>(gp, load<f32>(gp) + weight);
      if (lo < nneg) {
        const hi = upperBoundShifted(keys, lo, nneg, rmax, vmin);
        const ties = hi - lo;
        const count = ties + (vmin == 0 ? n - (nneg - lo) : 0);
        const share = -w / <f64>count;
        store<f64>(diff + (<usize>lo << 3), load<f64>(diff + (<usize>lo << 3)) + share);
        store<f64>(diff + (<usize>hi << 3), load<f64>(diff + (<usize>hi << 3)) - share);
        gMax += -w * <f64>(count - ties) / <f64>count;
      } else {
        gInside -= w;
      }
    }
    if (!wantGrad) continue;
    if (gInside != 0) {
      const share = gInside / <f64>insideCount;
      if (insideTies > 0) {
        store<f64>(diff + (<usize>insideLo << 3), load<f64>(diff + (<usize>insideLo << 3)) + share);
        store<f64>(diff + (<usize>nneg << 3), load<f64>(diff + (<usize>nneg << 3)) - share);
      }
      splitAmongEqual(row, grow, n, rmin, gInside * <f64>(insideCount - insideTies) / <f64>insideCount);
    }
    let acc: f64 = 0;
    for (let i = 0; i < nneg; i++) {
      acc += load<f64>(diff + (<usize>i << 3));
      if (acc != 0) {
        const o = grow + (<usize>keyColumn(keyAt(keys, i)) << 2);
        store<f32>(o, load<f32>(o) + <f32>acc);
      }
    }
    splitAmongEqual(row, grow, n, rmax, gMax);
  }
  return total;
}

/** Numerically stable log1p(exp(x)). */
@inline function softplus(x: f64): f64 {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

@inline function sigmoid(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Hard triplet loss (TF Addons' triplet_hard_loss): per anchor hp = masked max over positives,
 * hn = masked min over negatives, loss max(hp − hn + margin, 0) or (soft) softplus(hp − hn).
 * Returns the sum over anchors; the caller divides by n. When wantGrad, writes into dgrad the
 * gradient of that sum times `weight` (1/n).
 */
export function triplet_hard(dist: usize, labels: usize, n: i32, margin: f32, soft: i32, weight: f32,
                             dgrad: usize, wantGrad: i32): f64 {
  let total: f64 = 0;
  for (let a = 0; a < n; a++) {
    const row = dist + ((<usize>a * n) << 2);
    const grow = dgrad + ((<usize>a * n) << 2);
    const la = load<i32>(labels + (<usize>a << 2));
    const rmax = rowMax(row, n);
    const rmin = rowMin(row, n);
    // Masked extremes; entries outside the mask are 0 in TF's product, hence the 0 start.
    let vmin: f32 = 0;
    let umax: f32 = 0;
    let npos = 0;
    let nneg = 0;
    for (let j = 0; j < n; j++) {
      const d = load<f32>(row + (<usize>j << 2));
      const lj = load<i32>(labels + (<usize>j << 2));
      if (lj != la) {
        nneg++;
        vmin = min<f32>(vmin, d - rmax);
      } else if (j != a) {
        npos++;
        umax = max<f32>(umax, d - rmin);
      }
    }
    const hn: f32 = vmin + rmax;
    const hp: f32 = umax + rmin;
    const x: f32 = hp - hn;
    let g: f64;
    if (soft) {
      total += softplus(<f64>x);
      g = sigmoid(<f64>x);
    } else {
      const z: f32 = x + margin;
      total += <f64>max<f32>(z, 0);
      g = z >= 0 ? 1 : 0;
    }
    if (!wantGrad) continue;
    zeroRow(grow, n);
    g *= <f64>weight;
    if (g == 0) continue;
    let negTies = 0;
    let posTies = 0;
    for (let j = 0; j < n; j++) {
      const d = load<f32>(row + (<usize>j << 2));
      const lj = load<i32>(labels + (<usize>j << 2));
      if (lj != la) {
        if (d - rmax == vmin) negTies++;
      } else if (j != a) {
        if (d - rmin == umax) posTies++;
      }
    }
    const negCount = negTies + (vmin == 0 ? n - nneg : 0);
    const posCount = posTies + (umax == 0 ? n - npos : 0);
    const negShare = <f32>(-g / <f64>negCount);
    const posShare = <f32>(g / <f64>posCount);
    for (let j = 0; j < n; j++) {
      const d = load<f32>(row + (<usize>j << 2));
      const lj = load<i32>(labels + (<usize>j << 2));
      const o = grow + (<usize>j << 2);
      if (lj != la) {
        if (d - rmax == vmin) store<f32>(o, load<f32>(o) + negShare);
      } else if (j != a) {
        if (d - rmin == umax) store<f32>(o, load<f32>(o) + posShare);
      }
    }
    splitAmongEqual(row, grow, n, rmax, -g * <f64>(negCount - negTies) / <f64>negCount);
    splitAmongEqual(row, grow, n, rmin, g * <f64>(posCount - posTies) / <f64>posCount);
  }
  return total;
}

/** dst = src · s (scaling a unit gradient by the upstream gradient). */
export function triplet_scale(src: usize, dst: usize, m: i32, s: f32): void {
  scaleRun(src, dst, m, s);
}
