import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Allocator } from "../../src/wasm/memory.js";

describe("Allocator", () => {
  it("never hands out overlapping blocks, aligns to 64, and returns to zero live bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 200_000 })), { maxLength: 60 }), (ops) => {
        const mem = new WebAssembly.Memory({ initial: 1 });
        const a = new Allocator(mem, 100);
        const live: [number, number][] = [];
        for (const [doFree, size] of ops) {
          if (doFree && live.length) {
            const [ptr] = live.splice(size % live.length, 1)[0];
            a.release(ptr);
          } else {
            const ptr = a.alloc(size);
            expect(ptr % 64).toBe(0);
            expect(ptr).toBeGreaterThanOrEqual(100);
            expect(ptr + size).toBeLessThanOrEqual(mem.buffer.byteLength);
            for (const [p, s] of live) expect(ptr + size <= p || p + s <= ptr).toBe(true);
            live.push([ptr, size]);
          }
        }
        for (const [p] of live) a.release(p);
        expect(a.liveBytes).toBe(0);
      }),
    );
  });

  it("reuses freed memory instead of growing", () => {
    const mem = new WebAssembly.Memory({ initial: 1 });
    const a = new Allocator(mem, 0);
    for (let i = 0; i < 100; i++) {
      const p = a.alloc(1 << 20);
      const q = a.alloc(1 << 19);
      a.release(p);
      a.release(q);
    }
    expect(mem.buffer.byteLength).toBeLessThan(4 << 20);
  });

  it("rejects a double free and bad sizes", () => {
    const a = new Allocator(new WebAssembly.Memory({ initial: 1 }), 0);
    const p = a.alloc(10);
    a.release(p);
    expect(() => a.release(p)).toThrow(/not an allocated block/);
    expect(() => a.alloc(-1)).toThrow(/invalid size/);
  });
});
