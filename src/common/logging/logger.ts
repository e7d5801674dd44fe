import pino, { type Logger, type LoggerOptions } from 'pino';
import type { LogLevelName } from '../../config/env.validation';
import { currentRequest } from '../http/request-scope';
import { errorFields, redact, scrub } from './redact';

/** Where log lines go: anything with `write(line)`. Production: standard output. */
export interface LogSink {
  write(line: string): unknown;
}

/** DI token of the sink (tests override it to capture the lines). */
export const LOG_SINK = Symbol('LOG_SINK');
/** DI token of the app's root pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
/** DI token of the logger of the per-request lines (see `createRequestLineLogger`). */
export const REQUEST_LINE_LOGGER = Symbol('REQUEST_LINE_LOGGER');

/** LOG_LEVEL (Nest's names) → pino's. */
export const PINO_LEVEL: Readonly<Record<LogLevelName, pino.Level>> = Object.freeze({
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
});

let stdout: LogSink | undefined;

/**
 * Standard output, one per process, written asynchronously: a line is handed to the kernel by a
 * write that does not block the request that logged it, and lines logged while one write is in
 * flight go out together in the next (under load, one write for many lines; at rest, each line
 * at once). What is still queued when the process exits (SIGTERM's exit, a crash, process.exit)
 * is written synchronously by the exit handler, so no line is lost.
 */
export function stdoutSink(): LogSink {
  if (!stdout) {
    const destination = pino.destination({ dest: 1, sync: false });
    process.once('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // stdout already closed: nothing more can be written
      }
    });
    stdout = destination;
  }
  return stdout;
}

/**
 * The root logger of one app. JSON, one object per line: `level` (name), `time` (ISO 8601), `pid`,
 * `hostname`, `msg`, `context` (the Nest logger's), `reqId` (the request being served, when there
 * is one) and the logged fields. Every object and message goes through `redact`/`scrub` first.
 * `pretty` renders the same records for a terminal.
 */
export function createRootLogger(config: LogConfig, sink: LogSink = stdoutSink()): Logger {
  return appLogger(config, sink, {
    formatters: { log: (object) => redact(object) as Record<string, unknown> },
    serializers: { err: (error: unknown) => (error instanceof Error ? errorFields(error) : redact(error)) },
    // Fixed paths, in case something bypasses the formatter (child bindings); the formatter covers the rest.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        // pino would take an error's own message unscrubbed when no message is given.
        if (args.length === 1 && args[0] instanceof Error) (args as unknown[]).push(args[0].message);
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrub(args[i] as string);
        method.apply(this, args);
      },
    },
    // The request being served (AsyncLocalStorage), so any line logged on its behalf carries its id.
    mixin(merge) {
      if ((merge as { reqId?: unknown }).reqId !== undefined) return {};
      const req = currentRequest();
      return req?.id ? { reqId: req.id } : {};
    },
  });
}

/**
 * The logger of the one line per request (`requestLogger`): the root logger's format, level and
 * sink, without its generic redaction pass. That pass walks every logged object (each key
 * against the secret-name pattern, each string through the secret shapes); the request line is
 * built from known fields, and `requestLogger` scrubs the few that come from the client (path,
 * address, user agent) itself. Nothing else may log through it.
 */
export function createRequestLineLogger(config: LogConfig, sink: LogSink = stdoutSink()): Logger {
  return appLogger(config, sink);
}

type LogConfig = { readonly logLevel: LogLevelName; readonly logFormat: 'json' | 'pretty' };

/** What every logger of the app shares: LOG_LEVEL, ISO time, the level by name, LOG_FORMAT's sink. */
function appLogger(config: LogConfig, sink: LogSink, options: LoggerOptions = {}): Logger {
  return pino(
    {
      ...options,
      level: PINO_LEVEL[config.logLevel],
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { ...options.formatters, level: (label) => ({ level: label }) },
    },
    (config.logFormat === 'pretty' ? prettySink(sink) : sink) as pino.DestinationStream,
  );
}

const LEVEL_LABEL: Record<string, string> = { trace: 'VERBOSE', debug: 'DEBUG', info: 'LOG', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'reqId']);

/** `2026-11-23T18:30:00.000Z WARN  [Context] message (reqId) key=value …`: for a terminal, same content as JSON. */
export function prettySink(out: LogSink): LogSink {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return out.write(line);
      }
      const level = (LEVEL_LABEL[String(record.level)] ?? String(record.level)).padEnd(7);
      const context = record.context ? `[${String(record.context)}] ` : '';
      const reqId = record.reqId ? ` (${String(record.reqId)})` : '';
      const extra = Object.entries(record)
        .filter(([key]) => !OMIT.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      return out.write(`${String(record.time)} ${level} ${context}${String(record.msg ?? '')}${reqId}${extra ? ` ${extra}` : ''}\n`);
    },
  };
}
