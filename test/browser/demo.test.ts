// The demo page in headless Chromium: the package's dist/ loads as-is in a page and a module
// worker, the kernels instantiate (so WebAssembly SIMD runs), the tutorial's model learns, and
// the page shows the loss curve, precision@1 and the 2-D layout, and offers the projector files.

import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoServer } from "../../scripts/serve-demo.mjs";
import { launchChromium, requireBuild, type Chromium } from "./chromium.js";

const root = resolve(import.meta.dirname, "../..");
const outDir = join(root, "test-output/browser");

interface DemoStatus {
  simd: boolean;
  simdValidated: boolean;
  kernelsInstantiated: boolean | null;
  crossOriginIsolated: boolean;
  state: string;
  steps: number;
  totalSteps: number;
  losses: number[];
  precisionAt1: number | null;
  layout: string | null;
  scatterDrawn: boolean;
  timings: Record<string, number> | null;
  error: string | null;
}

let server: Server;
let baseUrl: string;
let browser: Chromium;

beforeAll(async () => {
  requireBuild(root);
  mkdirSync(outDir, { recursive: true });
  ({ server, url: baseUrl } = await startDemoServer());
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
});

async function openDemo(query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${baseUrl}${query}`);
  return { page, errors };
}

const status = (page: Page) => page.evaluate(() => (window as unknown as { demoStatus: DemoStatus }).demoStatus);

const finished = (page: Page, timeout: number) =>
  page.waitForFunction(() => {
    const s = (window as unknown as { demoStatus: DemoStatus }).demoStatus;
    return s.state === "done" || s.state === "error";
  }, null, { timeout, polling: 250 });

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("the demo page in Chromium", () => {
  it("trains 300 steps in a worker, with a live loss curve, precision@1 and a UMAP scatter", async () => {
    const t0 = performance.now();
    const { page, errors } = await openDemo("?autostart=1&limitTrain=3200&limitTest=1000&batchSize=32&epochs=3");
    // The page's main thread must stay free while the worker trains: record its longest pause.
    await page.evaluate(() => {
      const w = window as unknown as { maxGapMs: number };
      w.maxGapMs = 0;
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        w.maxGapMs = Math.max(w.maxGapMs, now - last);
        last = now;
      }, 50);
    });
    await page.waitForFunction(() => (window as unknown as { demoStatus: DemoStatus }).demoStatus.steps >= 20, null, { timeout: 60_000 });
    // The curve is drawn while training goes on.
    const midway = await status(page);
    expect(midway.state).toBe("training");
    const curveMidway = await coloredPixels(page, "loss");
    expect(curveMidway).toBeGreaterThan(30);

    await finished(page, 150_000);
    const s = await status(page);
    const seconds = (performance.now() - t0) / 1000;
    await page.screenshot({ path: join(outDir, "demo.png"), fullPage: true });
    const maxGapMs = await page.evaluate(() => (window as unknown as { maxGapMs: number }).maxGapMs);

    expect(s.error).toBeNull();
    expect(s.state).toBe("done");
    expect(s.simdValidated).toBe(true);
    expect(s.kernelsInstantiated).toBe(true);
    expect(s.simd).toBe(true);
    expect(s.crossOriginIsolated).toBe(true);
    expect(s.steps).toBe(300);
    expect(s.losses).toHaveLength(300);
    const first = mean(s.losses.slice(0, 20));
    const last = mean(s.losses.slice(-20));
    expect(last).toBeLessThan(first - 0.1);
    expect(s.precisionAt1).toBeGreaterThan(0.6); // chance is about 0.1
    expect(s.layout).toBe("UMAP");
    expect(s.scatterDrawn).toBe(true);
    expect(await coloredPixels(page, "loss")).toBeGreaterThan(curveMidway * 4);
    // Ten colours of dots, not a blank canvas.
    expect(await coloredPixels(page, "scatter")).toBeGreaterThan(3000);
    expect(maxGapMs).toBeLessThan(2000);
    expect(errors).toEqual([]);

    // The projector files behind the download links: 1000 rows of 256 numbers, 1000 digits.
    const files = await page.evaluate(async () => {
      const text = async (id: string) => (await fetch((document.getElementById(id) as HTMLAnchorElement).href)).text();
      return { vecs: await text("vecs"), meta: await text("meta"), svg: await text("svg") };
    });
    const rows = files.vecs.trimEnd().split("\n");
    expect(rows).toHaveLength(1000);
    for (const row of [rows[0], rows[999]]) {
      const cells = row.split("\t").map(Number);
      expect(cells).toHaveLength(256);
      expect(Math.hypot(...cells)).toBeCloseTo(1, 3); // L2-normalized embeddings
    }
    const labels = files.meta.trimEnd().split("\n");
    expect(labels).toHaveLength(1000);
    expect(labels.every((l) => /^[0-9]$/.test(l))).toBe(true);
    expect(files.svg).toMatch(/^<svg /);
    expect(files.svg.match(/<circle /g)?.length).toBe(1000 + 10); // points + legend

    writeFileSync(join(outDir, "demo-timings.json"), JSON.stringify({
      wallSeconds: seconds, worker: s.timings, firstLoss20: first, lastLoss20: last, precisionAt1: s.precisionAt1, maxMainThreadGapMs: maxGapMs,
    }, null, 2));
    console.log(`demo: ${seconds.toFixed(1)} s in all; worker ${JSON.stringify(s.timings)}; loss ${first.toFixed(3)} -> ${last.toFixed(3)}; P@1 ${s.precisionAt1}`);
    await page.close();
  });

  it("Stop ends training early and still evaluates what was learnt", async () => {
    const { page, errors } = await openDemo("?limitTrain=3200&limitTest=200&epochs=5");
    await page.waitForFunction(() => (window as unknown as { demoStatus: DemoStatus }).demoStatus.kernelsInstantiated === true, null, { timeout: 30_000 });
    await page.click("#start");
    await page.waitForFunction(() => (window as unknown as { demoStatus: DemoStatus }).demoStatus.steps >= 10, null, { timeout: 60_000 });
    await page.click("#stop");
    await finished(page, 60_000);
    const s = await status(page);
    expect(s.error).toBeNull();
    expect(s.totalSteps).toBe(500);
    expect(s.steps).toBeGreaterThanOrEqual(10);
    expect(s.steps).toBeLessThan(100);
    expect(s.losses).toHaveLength(s.steps);
    expect(s.precisionAt1).not.toBeNull();
    expect(s.scatterDrawn).toBe(true);
    expect(await page.textContent("#progress")).toMatch(/^stopped after \d+ steps/);
    expect(await page.isEnabled("#start")).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** Pixels of a canvas that are clearly coloured (not white, grey or black). */
function coloredPixels(page: Page, canvasId: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.getElementById(id) as HTMLCanvasElement;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 60) count++;
    }
    return count;
  }, canvasId);
}
