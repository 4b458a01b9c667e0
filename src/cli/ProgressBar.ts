/** A one-line progress bar on a TTY; plain periodic lines elsewhere (CI logs stay readable). */
export class ProgressBar {
  readonly #total: number;
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  #lastDraw = 0;
  #lastPercent = -1;

  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#total = total;
    this.#stream = stream;
  }

  /** Redraws at most ten times a second (TTY) or every 10 % (not a TTY). */
  update(done: number, extra = ''): void {
    const fraction = this.#total > 0 ? Math.min(1, done / this.#total) : 0;
    const percent = Math.floor(fraction * 100);
    if (this.#stream.isTTY) {
      const now = performance.now();
      if (now - this.#lastDraw < 100 && done < this.#total) return;
      this.#lastDraw = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      this.#stream.write(
        `\r${this.#label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}% ${done}/${this.#total} ${extra}`,
      );
    } else if (percent >= this.#lastPercent + 10 || (done >= this.#total && percent !== this.#lastPercent)) {
      this.#lastPercent = percent;
      this.#stream.write(`${this.#label}: ${percent}% (${done}/${this.#total}) ${extra}\n`);
    }
  }

  /** Ends the line. */
  done(): void {
    if (this.#stream.isTTY) this.#stream.write('\n');
  }
}
