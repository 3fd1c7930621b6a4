import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { encodePng, scatterPng, scatterSvg, TAB10, writeEmbeddingPictures } from "../../src/index.js";
import { crc32 } from "../../src/viz/png.js";

const root = mkdtempSync(join(tmpdir(), "wasmgrad-scatter-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Chunks of a PNG file: type, data, and whether the stored CRC matches. */
function chunks(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array; crcOk: boolean }[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    out.push({ type, data, crcOk: view.getUint32(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return out;
}

function decode(png: Uint8Array) {
  const parts = chunks(png);
  const ihdr = new DataView(parts[0].data.buffer, parts[0].data.byteOffset, 13);
  const width = ihdr.getUint32(0);
  const height = ihdr.getUint32(4);
  const raw = inflateSync(Buffer.concat(parts.filter((c) => c.type === "IDAT").map((c) => c.data)));
  const pixel = (x: number, y: number) => Array.from(raw.subarray(y * (1 + 3 * width) + 1 + 3 * x, y * (1 + 3 * width) + 4 + 3 * x));
  return { parts, width, height, raw, pixel };
}

const hexRgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// Three classes in three corners of the layout, and a lone point of class 9 in the middle.
const points = Float32Array.from([0, 0, 0.1, 0, 10, 0, 10, 0.1, 0, 10, 0.1, 10, 5, 5]);
const labels = [0, 0, 1, 1, 2, 2, 9];

describe("encodePng", () => {
  it("writes the signature, IHDR, IDAT and IEND with good CRCs", () => {
    const rgb = Uint8Array.from({ length: 3 * 4 * 3 }, (_, i) => i * 7);
    const png = encodePng(3, 4, rgb);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const { parts, width, height, raw } = decode(png);
    expect(parts.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(parts.every((c) => c.crcOk)).toBe(true);
    expect([width, height, parts[0].data[8], parts[0].data[9]]).toEqual([3, 4, 8, 2]);
    expect(raw.length).toBe(4 * (1 + 3 * 3));
    // Filter byte 0, then the row as given.
    expect(Array.from(raw.subarray(10, 20))).toEqual([0, ...rgb.subarray(9, 18)]);
  });

  it("computes the standard CRC-32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

describe("scatterPng", () => {
  it("draws each point in its class colour on a white background, at the requested size", () => {
    const png = scatterPng(points, labels, { title: "Test 1", width: 400, height: 300 });
    const { width, height, raw, pixel, parts } = decode(png);
    expect([width, height]).toEqual([400, 300]);
    expect(raw.length).toBe(300 * (1 + 3 * 400));
    expect(parts.every((c) => c.crcOk)).toBe(true);
    expect(pixel(0, 0)).toEqual([255, 255, 255]);
    // Find where the layout put the points through the SVG, which shares the layout.
    const svg = scatterSvg(points, labels, { title: "Test 1", width: 400, height: 300 });
    const circles = [...svg.matchAll(/<circle class="c(\d)" cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"\/>/g)];
    const classColour = [TAB10[0], TAB10[1], TAB10[2], TAB10[3]]; // classes 0, 1, 2, 9 in sorted order
    for (const [, c, cx, cy] of circles.slice(0, points.length / 2)) {
      expect(pixel(Math.floor(Number(cx)), Math.floor(Number(cy)))).toEqual(hexRgb(classColour[Number(c)]));
    }
  });
});

describe("scatterSvg", () => {
  it("has one circle per point, a legend entry per class and the title", () => {
    const svg = scatterSvg(points, labels, { title: "MNIST <test>" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('width="800" height="800"');
    const pointsGroup = svg.slice(svg.indexOf('<g class="points"'), svg.indexOf('<g class="legend"'));
    expect(pointsGroup.match(/<circle /g)!.length).toBe(7);
    const legend = svg.slice(svg.indexOf('<g class="legend"'));
    expect([...legend.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual(["0", "1", "2", "9"]);
    expect(legend.match(/<circle /g)!.length).toBe(4);
    expect(svg).toContain(">MNIST &lt;test&gt;</text>");
    expect(svg).toContain(`.c3{fill:${TAB10[3]}}`);
  });

  it("names shape mismatches", () => {
    expect(() => scatterSvg([1, 2, 3], [0])).toThrow(/points2d length 3 is odd/);
    expect(() => scatterSvg([1, 2, 3, 4], [0])).toThrow(/1 labels for 2 points/);
    expect(() => scatterPng([1, 2], [0], { width: 10 })).toThrow(/scatterPng: size 10 x 800 is too small/);
  });
});

describe("writeEmbeddingPictures", () => {
  it("writes embeddings.svg and embeddings.png", () => {
    const dir = join(root, "pictures");
    const files = writeEmbeddingPictures(dir, points, labels, { title: "T" });
    expect(files).toEqual({ svg: join(dir, "embeddings.svg"), png: join(dir, "embeddings.png") });
    expect(readFileSync(files.svg, "utf8")).toBe(scatterSvg(points, labels, { title: "T" }));
    expect(new Uint8Array(readFileSync(files.png))).toEqual(scatterPng(points, labels, { title: "T" }));
  });
});
