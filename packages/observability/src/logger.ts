import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redact, redactString } from './redact.js';

export type { Logger } from 'pino';

/** JSON lines (for log shippers), or pino-pretty's readable lines (for a person at a terminal). */
export type LogFormat = 'json' | 'pretty';

/**
 * The format a process writes (LOG_FORMAT): production always JSON; `auto` pretty only in
 * development when the stream is a terminal, so output piped to a file or a shipper stays JSON.
 */
export function resolveLogFormat(
  setting: 'auto' | LogFormat,
  nodeEnv: string,
  stream: { readonly isTTY?: boolean } = process.stdout,
): LogFormat {
  if (nodeEnv === 'production') return 'json';
  if (setting !== 'auto') return setting;
  return nodeEnv === 'development' && stream.isTTY === true ? 'pretty' : 'json';
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/**
 * pino-pretty as an in-process stream (no worker thread: lines appear in order with the rest of
 * the output and nothing is lost at exit). An optional peer dependency, absent from the production
 * images: without it the logger stays JSON.
 */
function prettyStream(destination: DestinationStream | undefined, colorize: boolean): DestinationStream | undefined {
  let factory: PrettyFactory;
  try {
    const mod = createRequire(import.meta.url)('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    factory = typeof mod === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
  return factory({
    destination: destination ?? 1,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,app',
    messageKey: 'msg',
    // The process (or the app inside the all-in-one process) before each message.
    messageFormat: (log: Record<string, unknown>, key: string) =>
      `${String(log.app ?? log.service ?? '')} | ${String(log[key] ?? '')}`,
  });
}

export interface LoggerConfig {
  /** Service name, logged as `service` on every line. */
  readonly name: string;
  readonly level?: string;
  /** Extra fields bound to every line (e.g. `{ app: 'ingress' }`). */
  readonly base?: Record<string, unknown>;
  /** Default JSON; see {@link resolveLogFormat}. */
  readonly format?: LogFormat;
}

/**
 * The one logger factory: pino JSON to stdout (or a given stream), with every object and message
 * passed through {@link redact} so tokens, passwords and `auth_token` query values never appear.
 * With `format: 'pretty'` the same redacted records are pretty-printed.
 */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { service: config.name, pid: process.pid, ...config.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redact(object) as Record<string, unknown>,
      bindings: (bindings) => redact(bindings) as Record<string, unknown>,
    },
    serializers: {
      // Error objects are redacted by the `log` formatter; keep pino's shape for them.
      err: (err: unknown) => redact(err),
    },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactString(a) : a));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
  const pretty =
    config.format === 'pretty'
      ? prettyStream(destination, destination === undefined && process.stdout.isTTY === true)
      : undefined;
  const target = pretty ?? destination;
  const logger = target ? pino(options, target) : pino(options);
  // pino skips the bindings formatter for children; children are created with Object.create
  // of their parent, so one override here covers every descendant.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redact(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The logger of a process, from its configuration (LOG_LEVEL, LOG_FORMAT, NODE_ENV) to stdout. */
export function processLogger(
  name: string,
  config: { readonly LOG_LEVEL: string; readonly LOG_FORMAT: 'auto' | LogFormat; readonly NODE_ENV: string },
): Logger {
  return createLogger({ name, level: config.LOG_LEVEL, format: resolveLogFormat(config.LOG_FORMAT, config.NODE_ENV) });
}
