// Keras-style progress: one line per epoch that redraws in place on a terminal, and plain lines
// (every 10 % of the epoch) when the output is not a TTY.

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Redraw in place (default: stream.isTTY). */
  tty?: boolean;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - 60 * m);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

export class EpochProgress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private start = 0;
  private lastDraw = 0;
  private lastPlainTenth = -1;

  constructor(readonly epoch: number, readonly epochs: number, readonly total: number | undefined, options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
  }

  begin(): void {
    this.start = performance.now();
    this.stream.write(`Epoch ${this.epoch}/${this.epochs}\n`);
  }

  private line(step: number, loss: number, done: boolean): string {
    const elapsed = (performance.now() - this.start) / 1000;
    const total = this.total;
    const width = 30;
    let bar = "";
    if (total) {
      const filled = Math.min(width, Math.floor((width * step) / total));
      bar = ` [${"=".repeat(Math.max(0, filled - (done ? 0 : 1)))}${done ? "" : ">"}${".".repeat(width - filled)}]`;
    }
    const perStep = (elapsed / Math.max(step, 1)) * 1000;
    const timing = done || !total ? `${duration(elapsed)} ${perStep.toFixed(0)}ms/step` : `ETA: ${duration(((total - step) * perStep) / 1000)}`;
    return `${String(step).padStart(String(total ?? step).length)}/${total ?? "?"}${bar} - ${timing} - loss: ${loss.toFixed(4)}`;
  }

  update(step: number, meanLoss: number): void {
    if (this.tty) {
      const now = performance.now();
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(step, meanLoss, false)}\x1b[K`);
    } else if (this.total) {
      const tenth = Math.floor((10 * step) / this.total);
      if (tenth > this.lastPlainTenth && tenth < 10) {
        this.lastPlainTenth = tenth;
        if (step > 1) this.stream.write(`${this.line(step, meanLoss, false)}\n`);
      }
    }
  }

  end(steps: number, meanLoss: number, extra: string): void {
    const text = `${this.line(steps, meanLoss, true)}${extra ? ` - ${extra}` : ""}`;
    this.stream.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}
