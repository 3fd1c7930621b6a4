// TF Addons' triplet_semihard_loss (tensorflow_addons/losses/triplet.py, distance_metric "L2")
// and metric_learning.pairwise_distance, op for op in TF.js, so that TF.js trains the tutorial's
// loss exactly as Keras does, including its N² x N tiled mask. Gradients come from TF.js's
// autodiff of these ops, as they come from TF's in Python.

import { tf } from "./tf.js";

/**
 * TF registers comparisons and logical ops as NotDifferentiable (no gradient flows through a
 * mask); TF.js has no gradient for them at all and stops tf.grad with "gradient function not
 * found" when a mask built from the distances lies between the embeddings and the loss. Zero
 * gradients, registered once, give TF's semantics.
 */
function registerNotDifferentiable(): void {
  const binary = ["Greater", "LessEqual", "Equal", "LogicalAnd"];
  for (const kernelName of [...binary, "LogicalNot"]) {
    if (tf.getGradient(kernelName)) continue;
    const inputs = binary.includes(kernelName) ? ["a", "b"] : ["x"];
    tf.registerGradient({
      kernelName,
      inputsToSave: inputs,
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, "float32")])),
    });
  }
}
registerNotDifferentiable();

/** metric_learning.pairwise_distance: ||f_i − f_j||₂ (or its square), exact zeros on the diagonal. */
export function pairwiseDistance(feature: tf.Tensor2D, squared = false): tf.Tensor2D {
  return tf.tidy(() => {
    const pairwiseDistancesSquared0 = tf.sub(
      tf.add(tf.sum(tf.square(feature), 1, true), tf.sum(tf.square(tf.transpose(feature)), 0, true)),
      tf.mul(2, tf.matMul(feature, tf.transpose(feature))),
    );
    // Numerical inaccuracies: small negatives to zero, and a mask of the zeros.
    const pairwiseDistancesSquared = tf.maximum(pairwiseDistancesSquared0, 0);
    const errorMask = tf.lessEqual(pairwiseDistancesSquared, 0);
    let pairwiseDistances: tf.Tensor = squared
      ? pairwiseDistancesSquared
      : tf.sqrt(tf.add(pairwiseDistancesSquared, tf.mul(tf.cast(errorMask, "float32"), 1e-16)));
    // Undo the conditionally added 1e-16.
    pairwiseDistances = tf.mul(pairwiseDistances, tf.cast(tf.logicalNot(errorMask), "float32"));
    const numData = feature.shape[0];
    // Explicitly zero the diagonal (tf.linalg.diag(tf.ones([n])) is tf.eye(n)).
    const maskOffdiagonals = tf.sub(tf.onesLike(pairwiseDistances), tf.eye(numData));
    return tf.mul(pairwiseDistances, maskOffdiagonals) as tf.Tensor2D;
  });
}

/** _masked_maximum: per row (dim 1) the largest of data where mask is 1 (the row minimum if none). */
function maskedMaximum(data: tf.Tensor2D, mask: tf.Tensor2D, dim = 1): tf.Tensor2D {
  const axisMinimums = tf.min(data, dim, true);
  return tf.add(tf.max(tf.mul(tf.sub(data, axisMinimums), mask), dim, true), axisMinimums);
}

/** _masked_minimum: per row the smallest of data where mask is 1 (the row maximum if none). */
function maskedMinimum(data: tf.Tensor2D, mask: tf.Tensor2D, dim = 1): tf.Tensor2D {
  const axisMaximums = tf.max(data, dim, true);
  return tf.add(tf.min(tf.mul(tf.sub(data, axisMaximums), mask), dim, true), axisMaximums);
}

/**
 * triplet_semihard_loss(y_true = labels [N] int32, y_pred = embeddings [N, D]) with the L2
 * (not squared) distance: mean over positive pairs (a, p) of max(margin + d(a,p) − d_neg, 0), d_neg
 * the smallest negative distance above d(a,p), else the largest negative distance.
 */
export function tripletSemiHardLoss(labels: tf.Tensor1D | tf.Tensor2D, embeddings: tf.Tensor2D, margin = 1.0): tf.Scalar {
  return tf.tidy(() => {
    // Reshape the labels to [batch_size, 1].
    const lshape = labels.shape;
    const labelsColumn = tf.reshape(labels, [lshape[0], 1]);

    const pdistMatrix = pairwiseDistance(embeddings, false);

    // Pairwise binary adjacency matrix, and its inverse to select negatives only.
    const adjacency = tf.equal(labelsColumn, tf.transpose(labelsColumn));
    const adjacencyNot = tf.logicalNot(adjacency);

    const batchSize = labelsColumn.size;

    // Row a·N + p of the tile holds d(p, ·); it is compared with d(a, p) (pdist transposed, flattened).
    const pdistMatrixTile = tf.tile(pdistMatrix, [batchSize, 1]) as tf.Tensor2D;
    const mask = tf.logicalAnd(
      tf.tile(adjacencyNot, [batchSize, 1]),
      tf.greater(pdistMatrixTile, tf.reshape(tf.transpose(pdistMatrix), [-1, 1])),
    );
    const maskFinal = tf.transpose(
      tf.reshape(tf.greater(tf.sum(tf.cast(mask, "float32"), 1, true), 0), [batchSize, batchSize]),
    );

    const adjacencyNotFloat = tf.cast(adjacencyNot, "float32") as tf.Tensor2D;
    const maskFloat = tf.cast(mask, "float32") as tf.Tensor2D;

    // negatives_outside: smallest D_an where D_an > D_ap.
    const negativesOutside = tf.transpose(tf.reshape(maskedMinimum(pdistMatrixTile, maskFloat), [batchSize, batchSize]));
    // negatives_inside: largest D_an.
    const negativesInside = tf.tile(maskedMaximum(pdistMatrix, adjacencyNotFloat), [1, batchSize]);
    const semiHardNegatives = tf.where(maskFinal, negativesOutside, negativesInside);

    const lossMat = tf.add(margin, tf.sub(pdistMatrix, semiHardNegatives));

    const maskPositives = tf.sub(tf.cast(adjacency, "float32"), tf.eye(batchSize));

    // All positive pairs except the diagonal (lifted-struct would halve the upper triangle).
    const numPositives = tf.sum(maskPositives);

    return tf.div(tf.sum(tf.maximum(tf.mul(lossMat, maskPositives), 0)), numPositives) as tf.Scalar;
  });
}
