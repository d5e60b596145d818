import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redact, redactString } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerConfig {
  /** Service name, logged as `service` on every line. */
  readonly name: string;
  readonly level?: string;
  /** Extra fields bound to every line (e.g. `{ app: 'ingress' }`). */
  readonly base?: Record<string, unknown>;
}

/**
 * The one logger factory: pino JSON to stdout (or a given stream), with every object and message
 * passed through {@link redact} so tokens, passwords and `auth_token` query values never appear.
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
  const logger = destination ? pino(options, destination) : pino(options);
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
