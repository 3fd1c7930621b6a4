// The 2-D embedding picture: points coloured by class, a legend, a title; no axes (UMAP
// coordinates mean nothing by themselves). The same layout drawn as SVG text or as PNG bytes.

import { builtin } from "./node.js";
import { encodePng } from "./png.js";
import { Canvas, textWidth, type Rgb } from "./raster.js";

export interface ScatterOptions {
  title?: string;
  /** Picture size in pixels. Default 800 x 800. */
  width?: number;
  height?: number;
}

/** Matplotlib's tab10, the categorical palette of the TF tutorials' pictures. */
export const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

type Label = number | string;

interface Layout {
  width: number;
  height: number;
  title: string | undefined;
  /** The distinct labels, sorted (numbers numerically); class c is drawn in TAB10[c % 10]. */
  classes: Label[];
  /** Class of each point. */
  classOf: Int32Array;
  /** Pixel centres of the points. */
  xs: Float64Array;
  ys: Float64Array;
  radius: number;
  legend: { x: number; y: number; rowHeight: number };
}

const MARGIN = 20;
const TITLE_HEIGHT = 44;
const LEGEND_WIDTH = 90;

function layout(points2d: ArrayLike<number>, labels: ArrayLike<Label>, options: ScatterOptions, caller: string): Layout {
  const width = options.width ?? 800;
  const height = options.height ?? 800;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 * MARGIN + LEGEND_WIDTH + 10 || height < 2 * MARGIN + TITLE_HEIGHT + 10) {
    throw new Error(`${caller}: size ${width} x ${height} is too small or not integral, expected at least ${2 * MARGIN + LEGEND_WIDTH + 10} x ${2 * MARGIN + TITLE_HEIGHT + 10}`);
  }
  if (points2d.length % 2 !== 0) throw new Error(`${caller}: points2d length ${points2d.length} is odd, expected N x 2 coordinates`);
  const n = points2d.length / 2;
  if (labels.length !== n) throw new Error(`${caller}: ${labels.length} labels for ${n} points, expected one label per point`);

  const classes = [...new Set(Array.from(labels))].sort((a, b) =>
    typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b)));
  const index = new Map(classes.map((c, i) => [c, i]));
  const classOf = Int32Array.from(Array.from(labels), (l) => index.get(l)!);

  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points2d[2 * i], y = points2d[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const radius = n <= 500 ? 4 : Math.max(1.6, 4 * Math.sqrt(500 / n));
  const top = MARGIN + (options.title ? TITLE_HEIGHT : 0);
  const plotW = width - 2 * MARGIN - LEGEND_WIDTH - 2 * radius;
  const plotH = height - top - MARGIN - 2 * radius;
  // One scale for both axes, so that the layout's shape is kept; centred in the plot area.
  const spanX = maxX - minX || 1;
  const spanY = maxY - minY || 1;
  const scale = Math.min(plotW / spanX, plotH / spanY);
  const offX = MARGIN + radius + (plotW - spanX * scale) / 2;
  const offY = top + radius + (plotH - spanY * scale) / 2;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = n === 0 ? 0 : offX + (points2d[2 * i] - minX) * scale;
    // y grows upwards in the layout, downwards in pictures.
    ys[i] = offY + (maxY - points2d[2 * i + 1]) * scale;
  }
  const rowHeight = 26;
  const legendY = top + Math.max(0, (height - top - MARGIN - rowHeight * classes.length) / 2);
  return { width, height, title: options.title, classes, classOf, xs, ys, radius, legend: { x: width - MARGIN - LEGEND_WIDTH + 16, y: legendY, rowHeight } };
}

function colorOf(c: number): string {
  return TAB10[c % TAB10.length];
}

function rgb(hex: string): Rgb {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/**
 * An SVG picture of 2-D points (N x 2, row-major) coloured by label (tab10, classes in sorted
 * order), one circle per point drawn in data order, with a legend and an optional title.
 */
export function scatterSvg(points2d: ArrayLike<number>, labels: ArrayLike<Label>, options: ScatterOptions = {}): string {
  const l = layout(points2d, labels, options, "scatterSvg");
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<style>${l.classes.map((_, c) => `.c${c}{fill:${colorOf(c)}}`).join("")}</style>`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  if (l.title) out.push(`<text x="${(l.width / 2).toFixed(1)}" y="${MARGIN + 24}" text-anchor="middle" font-size="22" fill="#222222">${escapeXml(l.title)}</text>`);
  out.push(`<g class="points" fill-opacity="0.8">`);
  const r = l.radius.toFixed(2);
  for (let i = 0; i < l.xs.length; i++) {
    out.push(`<circle class="c${l.classOf[i]}" cx="${l.xs[i].toFixed(1)}" cy="${l.ys[i].toFixed(1)}" r="${r}"/>`);
  }
  out.push(`</g>`);
  out.push(`<g class="legend" font-size="16" fill="#222222">`);
  l.classes.forEach((name, c) => {
    const y = l.legend.y + c * l.legend.rowHeight;
    out.push(`<circle class="c${c}" cx="${l.legend.x + 7}" cy="${y + 9}" r="7"/>`);
    out.push(`<text x="${l.legend.x + 22}" y="${y + 15}">${escapeXml(String(name))}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>\n`);
  return out.join("\n");
}

/**
 * The same picture as `scatterSvg`, rasterized here (anti-aliased discs, a 5 x 7 bitmap font that
 * writes letters in upper case) and encoded as PNG bytes. Node only (node:zlib).
 */
export function scatterPng(points2d: ArrayLike<number>, labels: ArrayLike<Label>, options: ScatterOptions = {}): Uint8Array {
  const l = layout(points2d, labels, options, "scatterPng");
  const canvas = new Canvas(l.width, l.height);
  const ink: Rgb = [34, 34, 34];
  if (l.title) {
    const scale = 3;
    canvas.text((l.width - textWidth(l.title, scale)) / 2, MARGIN + 4, l.title, ink, scale);
  }
  const colors = l.classes.map((_, c) => rgb(colorOf(c)));
  for (let i = 0; i < l.xs.length; i++) canvas.fillCircle(l.xs[i], l.ys[i], l.radius, colors[l.classOf[i]]);
  l.classes.forEach((name, c) => {
    const y = l.legend.y + c * l.legend.rowHeight;
    canvas.fillCircle(l.legend.x + 7, y + 9, 7, colors[c]);
    canvas.text(l.legend.x + 22, y + 2, String(name), ink, 2);
  });
  return encodePng(l.width, l.height, canvas.pixels);
}

/** Writes `dir`/embeddings.svg and `dir`/embeddings.png (creating `dir`); returns the paths. */
export function writeEmbeddingPictures(dir: string, points2d: ArrayLike<number>, labels: ArrayLike<Label>, options: ScatterOptions = {}): { svg: string; png: string } {
  const { mkdirSync, writeFileSync } = builtin("node:fs", "writeEmbeddingPictures");
  const { join } = builtin("node:path", "writeEmbeddingPictures");
  const files = { svg: join(dir, "embeddings.svg"), png: join(dir, "embeddings.png") };
  const contents = { svg: scatterSvg(points2d, labels, options), png: scatterPng(points2d, labels, options) };
  for (const [path, write] of [
    [dir, () => mkdirSync(dir, { recursive: true })],
    [files.svg, () => writeFileSync(files.svg, contents.svg)],
    [files.png, () => writeFileSync(files.png, contents.png)],
  ] as const) {
    try {
      write();
    } catch (error) {
      throw new Error(`writeEmbeddingPictures: cannot write ${path}: ${(error as Error).message}`);
    }
  }
  return files;
}
