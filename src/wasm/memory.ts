// The allocator of WebAssembly linear memory: best-fit over a sorted free list, with coalescing.
// Blocks are 64-byte aligned (a cache line; every v128 load is aligned). The allocator knows
// nothing of lifetimes: tensors (src/autograd/tensor.ts) free their blocks when their scope ends,
// and a training step allocates the same sizes in the same order each time, so blocks are reused.

const ALIGN = 64;
const PAGE = 65536;

interface FreeBlock {
  ptr: number;
  size: number;
}

export class Allocator {
  private readonly sizes = new Map<number, number>();
  /** Free blocks below `top`, sorted by address, never adjacent (they are merged). */
  private readonly free: FreeBlock[] = [];
  private top: number;
  private live = 0;
  private peak = 0;

  constructor(readonly memory: WebAssembly.Memory, readonly base: number) {
    this.top = alignUp(base);
  }

  /** Bytes currently allocated (after alignment). */
  get liveBytes(): number {
    return this.live;
  }

  /** The most bytes ever allocated at once. */
  get peakBytes(): number {
    return this.peak;
  }

  /** Size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Returns a 64-byte aligned pointer to `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`alloc: invalid size ${bytes} bytes`);
    const size = alignUp(Math.max(bytes, 1));
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size >= size && (best < 0 || block.size < this.free[best].size)) {
        best = i;
        if (block.size === size) break;
      }
    }
    let ptr: number;
    if (best >= 0) {
      const block = this.free[best];
      ptr = block.ptr;
      if (block.size === size) this.free.splice(best, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
    } else {
      // Extend the last free block if it ends at the top, else take fresh memory.
      const last = this.free[this.free.length - 1];
      if (last && last.ptr + last.size === this.top) {
        this.free.pop();
        ptr = last.ptr;
      } else {
        ptr = this.top;
      }
      this.top = ptr + size;
      this.ensure(this.top);
    }
    this.sizes.set(ptr, size);
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    return ptr;
  }

  /** Returns a block to the free list. Freeing an unknown pointer is an error. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not an allocated block`);
    this.sizes.delete(ptr);
    this.live -= size;
    // Insert sorted, then merge with neighbours.
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, { ptr, size });
    const next = this.free[lo + 1];
    const cur = this.free[lo];
    if (next && cur.ptr + cur.size === next.ptr) {
      cur.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === cur.ptr) {
      prev.size += cur.size;
      this.free.splice(lo, 1);
    }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow geometrically so that a run settles after a few steps.
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 4));
    try {
      this.memory.grow(pages);
    } catch {
      this.memory.grow(need);
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
