import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type SiteInputHeader,
  type SiteInputMessage,
  siteInputHeaderText,
  siteInputLineText,
} from '../domain/index.ts';

/**
 * Writes an export file (`src/domain/siteInputFile.ts`). The header comes first but names the
 * first and last sequences, known only at the end, so the messages go to a temporary body file as
 * they are read (a large site's day never sits in memory) and {@link finish} writes the header and
 * the body to the destination: a file written whole and renamed into place (a reader never sees
 * half an export; a failed export leaves no file), or stdout.
 */
export class SiteInputFileWriter {
  /** Destination file; null: stdout. */
  readonly out: string | null;
  readonly #bodyPath: string;
  readonly #body: WriteStream;
  #failed: Error | null = null;
  #count = 0;

  private constructor(out: string | null, bodyPath: string) {
    this.out = out;
    this.#bodyPath = bodyPath;
    this.#body = createWriteStream(bodyPath, { flags: 'wx' });
    this.#body.on('error', (err) => {
      this.#failed = err;
    });
  }

  /** A writer to `out` (null: stdout); the body file sits beside `out`, or in the OS temp dir. */
  static create(out: string | null): SiteInputFileWriter {
    const tag = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const bodyPath =
      out === null
        ? join(tmpdir(), `wfm-export-${tag}.body`)
        : join(dirname(out), `.${basename(out)}.${tag}.body`);
    return new SiteInputFileWriter(out, bodyPath);
  }

  /** Messages written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one message line; waits when the body file is behind. */
  async write(message: SiteInputMessage): Promise<void> {
    if (this.#failed !== null) throw this.#failed;
    this.#count += 1;
    if (!this.#body.write(`${siteInputLineText(message)}\n`)) {
      await once(this.#body, 'drain');
    }
  }

  /** Writes the header and the body to the destination, then removes the body file. */
  async finish(header: Omit<SiteInputHeader, 'format' | 'version'>): Promise<void> {
    await this.#closeBody();
    const headerLine = `${siteInputHeaderText(header)}\n`;
    try {
      if (this.out === null) {
        await writeOut(process.stdout, headerLine);
        await pipeline(createReadStream(this.#bodyPath), process.stdout, { end: false });
        return;
      }
      const tmp = `${this.out}.tmp-${process.pid}`;
      try {
        const body = createReadStream(this.#bodyPath);
        await pipeline(
          async function* () {
            yield headerLine;
            yield* body;
          },
          createWriteStream(tmp, { flags: 'w' }),
        );
        // Durable before it takes the name: a crash never leaves a short file called `out`.
        const handle = await open(tmp, 'r');
        await handle.sync().finally(() => handle.close());
        await rename(tmp, this.out);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    } finally {
      await rm(this.#bodyPath, { force: true });
    }
  }

  /** Gives up: the body file is removed and no destination file is made. */
  async abort(): Promise<void> {
    await this.#closeBody().catch(() => undefined);
    await rm(this.#bodyPath, { force: true });
  }

  async #closeBody(): Promise<void> {
    if (this.#body.closed) {
      if (this.#failed !== null) throw this.#failed;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#body.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    if (this.#failed !== null) throw this.#failed;
  }
}

function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
