import { createRequire } from 'node:module';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import { censorSecret, REDACT_PATHS } from './redactPaths.ts';
import { createSecretScrubber } from './scrubSecrets.ts';

/** Options of `createLogger`. */
export interface LoggerOptions {
  /**
   * Lowest level written.
   * @defaultValue 'info'
   */
  level?: Level | 'silent';
  /**
   * Human-readable colored lines (pino-pretty) instead of JSON lines.
   * @defaultValue process.stdout.isTTY
   */
  pretty?: boolean;
  /**
   * `name` field of every line.
   * @defaultValue 'wfm-agg'
   */
  name?: string;
  /**
   * Where lines go: a file descriptor, a file path (appended to) or a stream with `write(line)`.
   * @defaultValue 1 (stdout)
   */
  destination?: number | string | DestinationStream;
  /**
   * Secret values (e.g. the tenant password) scrubbed from every line, whatever field or message
   * they appear in. URL passwords are always scrubbed.
   * @defaultValue []
   */
  secrets?: readonly string[];
}

const defaultLoggerOptions: Required<Omit<LoggerOptions, 'pretty'>> & { pretty: boolean | undefined } = {
  level: 'info',
  // Resolved at call time: a test or a child process may change stdout.
  pretty: undefined,
  name: 'wfm-agg',
  destination: 1,
  secrets: [],
};

/**
 * A pino logger that never writes a secret: password/secret/token fields are redacted at any
 * depth up to four levels, URL passwords are masked, and `secrets` are scrubbed from every line
 * (messages and error stacks included).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const merged = { ...defaultLoggerOptions, ...options };
  const usePretty = merged.pretty ?? process.stdout.isTTY === true;
  const sink = toStream(merged.destination);
  const scrub = createSecretScrubber(merged.secrets);
  // Formatting in-line (not pino-pretty's stream or a transport thread) keeps writes synchronous
  // and lets any `{ write }` object be the destination.
  const prettify = usePretty
    ? loadPrettyFactory()({ colorize: merged.destination === 1 && process.stdout.isTTY === true })
    : undefined;
  const scrubbed: DestinationStream = {
    write: (line: string) => sink.write(prettify === undefined ? scrub(line) : prettify(scrub(line))),
  };
  return pino(
    {
      level: merged.level,
      name: merged.name,
      redact: { paths: [...REDACT_PATHS], censor: censorSecret },
    },
    scrubbed,
  );
}

/**
 * pino-pretty, loaded when a logger is pretty (a terminal): the JSON logs of a node process never
 * need it, and it was ~40 ms of every start. It is CommonJS, so `require` loads it synchronously.
 */
function loadPrettyFactory(): typeof import('pino-pretty').prettyFactory {
  return (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
}

function toStream(destination: number | string | DestinationStream): DestinationStream {
  if (typeof destination === 'object') return destination;
  // Synchronous, so the last line before a deliberate exit (e.g. after a DB dump) is not lost.
  return pino.destination({ dest: destination, sync: true, mkdir: typeof destination === 'string' });
}
