/**
 * Logging: pino loggers that keep secrets out of every line, plus the masking helpers other
 * modules use to show values that may contain a password.
 */
export type { Logger } from 'pino';
export { createLogger, type LoggerOptions } from './createLogger.ts';
export { censorSecret, REDACT_PATHS } from './redactPaths.ts';
export { createSecretScrubber, maskUrlPassword, REDACTED } from './scrubSecrets.ts';
