import { pino, type Logger } from 'pino';

let fallback: Logger | undefined;

/** The logger used when a caller passes none: pino at `info` to stdout, created once. */
export function defaultLogger(): Logger {
  fallback ??= pino({ name: 'dmf-bus', level: 'info' });
  return fallback;
}
