// umap-learn's optimize_layout_euclidean (random init, move_other, gamma 1, initial alpha 1),
// transcribed loop for loop over plain arrays: the reference for src/viz/umap-layout.ts.
// Random draws: uniform(-10, 10) per coordinate, then floor(nextFloat() · n) per negative sample
// (umap-learn: tau_rand_int() % n).

import type { Generator } from "../../src/random.js";

export function referenceLayout(
  edges: { head: number; tail: number; epochsPerSample: number }[],
  n: number,
  { a, b, nEpochs, generator, negativeSampleRate = 5 }: { a: number; b: number; nEpochs: number; generator: Generator; negativeSampleRate?: number },
): number[][] {
  const clip = (v: number) => Math.max(-4, Math.min(4, v));
  const embedding = Array.from({ length: n }, () => [generator.uniform(-10, 10), generator.uniform(-10, 10)].map(Math.fround));
  const epochsPerNegativeSample = edges.map((e) => e.epochsPerSample / negativeSampleRate);
  const epochOfNextNegativeSample = [...epochsPerNegativeSample];
  const epochOfNextSample = edges.map((e) => e.epochsPerSample);
  let alpha = 1;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    edges.forEach(({ head: j, tail: k, epochsPerSample }, i) => {
      if (epochOfNextSample[i] > epoch) return;
      const current = embedding[j];
      let other = embedding[k];
      let distSquared = (current[0] - other[0]) ** 2 + (current[1] - other[1]) ** 2;
      let gradCoeff = 0;
      if (distSquared > 0) gradCoeff = (-2 * a * b * distSquared ** (b - 1)) / (a * distSquared ** b + 1);
      for (let d = 0; d < 2; d++) {
        const gradD = clip(gradCoeff * (current[d] - other[d]));
        current[d] = Math.fround(current[d] + gradD * alpha);
        other[d] = Math.fround(other[d] - gradD * alpha);
      }
      epochOfNextSample[i] += epochsPerSample;
      const nNegSamples = Math.trunc((epoch - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
      for (let p = 0; p < nNegSamples; p++) {
        const kk = Math.floor(generator.nextFloat() * n);
        other = embedding[kk];
        distSquared = (current[0] - other[0]) ** 2 + (current[1] - other[1]) ** 2;
        if (distSquared > 0) gradCoeff = (2 * b) / ((0.001 + distSquared) * (a * distSquared ** b + 1));
        else if (j === kk) continue;
        else gradCoeff = 0;
        for (let d = 0; d < 2; d++) {
          const gradD = gradCoeff > 0 ? clip(gradCoeff * (current[d] - other[d])) : 0;
          current[d] = Math.fround(current[d] + gradD * alpha);
        }
      }
      epochOfNextNegativeSample[i] += nNegSamples * epochsPerNegativeSample[i];
    });
    alpha = 1 - epoch / nEpochs;
  }
  return embedding;
}
