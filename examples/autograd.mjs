import { init, tensor, matmul, relu, sum, gradcheck, tidy } from "wasmgrad";

await init();
const x = tensor([1, -2, 3, 4], [2, 2], { requiresGrad: true });
const w = tensor([0.5, 1, -2, 0.25], [2, 2], { requiresGrad: true });
const f = (x, w) => sum(relu(matmul(x, w)));

const loss = f(x, w); // recorded on the tape
loss.backward(); // walks it in reverse
console.log("loss", loss.item()); // 9
console.log("dL/dx", Array.from(x.grad.toArray())); // [ 1.5, -1.75, 1, 0.25 ]
console.log("dL/dw", Array.from(w.grad.toArray())); // [ 1, 4, -2, 2 ]
console.log("gradcheck", tidy(() => gradcheck(f, [x, w]).ok)); // true
