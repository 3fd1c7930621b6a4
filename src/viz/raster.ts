// A small RGB canvas for the PNG picture: anti-aliased filled circles, rectangles and text in the
// built-in bitmap font. Colours are [r, g, b] bytes.

import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.js";

export type Rgb = readonly [number, number, number];

export class Canvas {
  readonly pixels: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Rgb = [255, 255, 255]) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
  }

  /** Blends `color` over pixel (x, y) with weight `alpha` in [0, 1]; outside pixels are ignored. */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const i = (y * this.width + x) * 3;
    const a = Math.min(alpha, 1);
    for (let c = 0; c < 3; c++) this.pixels[i + c] = Math.round(this.pixels[i + c] * (1 - a) + color[c] * a);
  }

  /** A disc centred at (cx, cy) in pixel coordinates (pixel (x, y) spans [x, x+1)). */
  fillCircle(cx: number, cy: number, radius: number, color: Rgb): void {
    const x0 = Math.max(0, Math.floor(cx - radius - 1));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + radius + 1));
    const y0 = Math.max(0, Math.floor(cy - radius - 1));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + radius + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Coverage of the pixel, approximated by the distance of its centre to the edge.
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        this.blend(x, y, color, radius + 0.5 - d);
      }
    }
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let j = Math.max(0, Math.round(y)); j < Math.min(this.height, Math.round(y + h)); j++) {
      for (let i = Math.max(0, Math.round(x)); i < Math.min(this.width, Math.round(x + w)); i++) this.blend(i, j, color, 1);
    }
  }

  /** Text with its top-left corner at (x, y), each font pixel drawn as scale x scale pixels. */
  text(x: number, y: number, s: string, color: Rgb, scale = 2): void {
    let left = Math.round(x);
    for (const char of s) {
      const rows = glyph(char);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (rows[row] & (1 << (GLYPH_WIDTH - 1 - col))) this.fillRect(left + col * scale, Math.round(y) + row * scale, scale, scale, color);
        }
      }
      left += (GLYPH_WIDTH + 1) * scale;
    }
  }
}

/** Width in pixels of `s` drawn by `Canvas.text` at `scale`. */
export function textWidth(s: string, scale = 2): number {
  return s.length === 0 ? 0 : ([...s].length * (GLYPH_WIDTH + 1) - 1) * scale;
}
