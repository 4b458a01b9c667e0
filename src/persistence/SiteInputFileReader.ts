import { createReadStream, type ReadStream } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import {
  type Parsed,
  parseSiteInputHeader,
  parseSiteInputLine,
  type SiteInputHeader,
  type SiteInputMessage,
} from '../domain/index.ts';

/** One message line of an export file as read: the message, or why the line is skipped. */
export type SiteInputLine =
  | { line: number; ok: true; message: SiteInputMessage }
  | { line: number; ok: false; error: string };

/**
 * Reads an export file (`src/domain/siteInputFile.ts`) line by line, streaming, so a day of a
 * large site never sits in memory: {@link open} reads and checks the header, {@link lines} yields
 * each later line, numbered from 1 (the header's), as a message or as the reason it is skipped.
 * A bad line never stops the read.
 */
export class SiteInputFileReader {
  readonly header: SiteInputHeader;
  readonly #stream: ReadStream;
  readonly #lines: Interface;
  readonly #iterator: AsyncIterator<string>;

  private constructor(
    header: SiteInputHeader,
    stream: ReadStream,
    lines: Interface,
    it: AsyncIterator<string>,
  ) {
    this.header = header;
    this.#stream = stream;
    this.#lines = lines;
    this.#iterator = it;
  }

  /**
   * Opens `path` and reads its header. Refused (with the reason, the file closed): a file that
   * cannot be read, an empty one, a header that is not this format's.
   */
  static async open(path: string): Promise<Parsed<SiteInputFileReader>> {
    const stream = createReadStream(path, { encoding: 'utf8' });
    const opened = new Promise<void>((resolve, reject) => {
      stream.once('ready', () => resolve());
      stream.once('error', reject);
    });
    try {
      await opened;
    } catch (err) {
      stream.destroy();
      return { ok: false, error: `cannot read ${path}: ${(err as Error).message}` };
    }
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    const iterator = lines[Symbol.asyncIterator]();
    const fail = (error: string): Parsed<SiteInputFileReader> => {
      lines.close();
      stream.destroy();
      return { ok: false, error };
    };
    let first: IteratorResult<string>;
    try {
      first = await iterator.next();
    } catch (err) {
      return fail(`cannot read ${path}: ${(err as Error).message}`);
    }
    if (first.done === true) return fail(`${path} is empty: line 1 must be the header`);
    const header = parseSiteInputHeader(first.value);
    if (!header.ok) return fail(`${path} line 1: ${header.error}`);
    return { ok: true, value: new SiteInputFileReader(header.value, stream, lines, iterator) };
  }

  /** The lines after the header, in order; each message's seq must follow the last good one's. */
  async *lines(): AsyncGenerator<SiteInputLine> {
    let line = 1;
    let previousSeq = 0;
    try {
      for (;;) {
        const next = await this.#iterator.next();
        if (next.done === true) return;
        line += 1;
        const parsed = parseSiteInputLine(next.value, this.header, previousSeq);
        if (parsed.ok) {
          previousSeq = parsed.value.seq;
          yield { line, ok: true, message: parsed.value };
        } else {
          yield { line, ok: false, error: parsed.error };
        }
      }
    } finally {
      this.close();
    }
  }

  /** Closes the file (also done when {@link lines} ends or is left). */
  close(): void {
    this.#lines.close();
    this.#stream.destroy();
  }
}
