// Ready-made models.

import { Conv2D } from "./layers/conv2d.js";
import { Dense } from "./layers/dense.js";
import { Dropout, Flatten, L2Normalize, MaxPooling2D } from "./layers/shape-layers.js";
import { Sequential } from "./sequential.js";

/** The tutorial's model: two conv blocks, a 256-unit dense layer, L2-normalized rows. */
export function tripletTutorialModel(inputShape: [number, number, number] = [28, 28, 1]): Sequential {
  return new Sequential([
    new Conv2D({ filters: 64, kernelSize: 2, padding: "same", activation: "relu", inputShape }),
    new MaxPooling2D({ poolSize: 2 }),
    new Dropout(0.3),
    new Conv2D({ filters: 32, kernelSize: 2, padding: "same", activation: "relu" }),
    new MaxPooling2D({ poolSize: 2 }),
    new Dropout(0.3),
    new Flatten(),
    new Dense({ units: 256 }),
    new L2Normalize(),
  ]);
}
