// Plain TypeScript reference for the leave-one-out retrieval metrics (float64, full sort per
// query), written straight from Musgrave et al. 2020; used only by tests.
export function retrievalReference(
  x: ArrayLike<number>, labels: ArrayLike<number>, dim: number, metric: "L2" | "angular" = "L2",
): { precisionAt1: number; rPrecision: number; mapAtR: number; count: number } {
  const n = labels.length;
  const row = (i: number) => Array.from({ length: dim }, (_, p) => x[i * dim + p]);
  const distance = (a: number[], b: number[]) => {
    if (metric === "L2") return Math.sqrt(a.reduce((s, v, p) => s + (v - b[p]) ** 2, 0));
    const dot = a.reduce((s, v, p) => s + v * b[p], 0);
    const na = Math.hypot(...a);
    const nb = Math.hypot(...b);
    return na === 0 || nb === 0 ? Math.PI / 2 : Math.acos(Math.max(-1, Math.min(1, dot / (na * nb))));
  };
  let p1 = 0, rp = 0, map = 0, count = 0;
  for (let q = 0; q < n; q++) {
    const others = [];
    for (let j = 0; j < n; j++) if (j !== q) others.push({ j, d: distance(row(q), row(j)) });
    const R = others.filter((o) => labels[o.j] === labels[q]).length;
    if (R === 0) continue;
    others.sort((a, b) => a.d - b.d || a.j - b.j);
    const rel = others.map((o) => (labels[o.j] === labels[q] ? 1 : 0));
    let hits = 0, ap = 0;
    for (let i = 0; i < R; i++) {
      hits += rel[i];
      if (rel[i]) ap += hits / (i + 1);
    }
    p1 += rel[0];
    rp += hits / R;
    map += ap / R;
    count++;
  }
  return { precisionAt1: p1 / count, rPrecision: rp / count, mapAtR: map / count, count };
}
