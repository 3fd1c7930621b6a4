// The tutorial's model in tf.layers, trained by a custom step: tf.layers has no L2-normalize
// layer, so the rows are normalized in the step (as the tutorial's Lambda layer does with
// tf.math.l2_normalize), then TF Addons' semi-hard triplet loss, then Adam via optimizer.minimize.

import { tf, tfl } from "./tf.js";
import { tripletSemiHardLoss } from "./triplet-loss.js";

/** Conv2D(64,2,same,relu) → MaxPool(2) → Dropout(0.3) → Conv2D(32,2,same,relu) → MaxPool(2) → Dropout(0.3) → Flatten → Dense(256). */
export function tutorialModel(inputShape: [number, number, number] = [28, 28, 1]): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 64, kernelSize: 2, padding: "same", activation: "relu", inputShape }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 2, padding: "same", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 256 }), // no activation
    ],
  });
}

/** tf.math.l2_normalize(x, axis=1): x · rsqrt(max(Σx², ε)). */
export function l2Normalize(x: tf.Tensor2D, epsilon = 1e-12): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), epsilon))));
}

/** Embeddings of `x` [N, 28, 28, 1] (inference: dropout off), normalized, batch by batch. */
export function embed(model: tfl.Sequential, x: tf.Tensor4D, batchSize = 256): tf.Tensor2D {
  return tf.tidy(() => l2Normalize(model.predict(x, { batchSize }) as tf.Tensor2D));
}

/** A training step of the tutorial's model on the active backend. */
export class TripletTrainer {
  readonly optimizer: tf.Optimizer;
  private readonly variables: tf.Variable[];

  constructor(readonly model: tfl.Sequential, learningRate = 0.001, readonly margin = 1.0) {
    this.optimizer = tf.train.adam(learningRate);
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** One Adam step on (x [N, 28, 28, 1], labels [N] int32); returns the loss before the step. */
  step(x: tf.Tensor4D, labels: tf.Tensor1D): number {
    const loss = this.optimizer.minimize(() => {
      const embeddings = l2Normalize(this.model.apply(x, { training: true }) as tf.Tensor2D);
      return tripletSemiHardLoss(labels, embeddings, this.margin);
    }, true, this.variables);
    const value = loss!.dataSync()[0];
    loss!.dispose();
    return value;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
