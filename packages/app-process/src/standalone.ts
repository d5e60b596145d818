import { loadConfigOrExit, type ConfigOf, type EnvDefinition, type EnvVars } from '@cap/config';
import { processLogger, startTracing, type Logger } from '@cap/observability';
import type { Shutdown } from './shutdown.js';
import { StartupError } from './startup.js';

type StandaloneConfig = Parameters<typeof processLogger>[1] & { readonly DATABASE_URL?: string | undefined };

/**
 * The entry point of one app process (`node apps/<app>/dist/main.js`): load and validate the
 * configuration (exit 1 naming a bad variable), refuse the embedded database (one process only:
 * that is `npm start`'s mode), start, and shut down in order on SIGTERM/SIGINT. Start-up problems
 * are logged with an operator-facing message and exit 1.
 */
export async function runStandalone<V extends EnvVars>(opts: {
  readonly app: 'ingress' | 'worker';
  readonly env: EnvDefinition<V>;
  readonly start: (config: ConfigOf<V>, logger: Logger) => Promise<{ readonly shutdown: Shutdown }>;
}): Promise<void> {
  const config = loadConfigOrExit(opts.env);
  const { DATABASE_URL } = config as unknown as StandaloneConfig;
  const logger = processLogger(opts.app, config as unknown as StandaloneConfig);
  if (!DATABASE_URL) {
    logger.fatal(
      `DATABASE_URL is required to run the ${opts.app} as its own process: the embedded PGlite database can only be opened by one process. Use \`npm start\` for the single-process mode, or set DATABASE_URL.`,
    );
    process.exit(1);
  }
  try {
    // Before the app starts, so its queues, workers and clients see tracing on.
    const tracing = await startTracing({ serviceName: `cap-${opts.app}` });
    if (tracing) logger.info('OpenTelemetry traces on: spans are exported over OTLP (OTEL_* variables)');
    const running = await opts.start(config, logger);
    if (tracing) running.shutdown.register('connections', 'trace export', () => tracing.shutdown());
    running.shutdown.installSignalHandlers();
  } catch (err) {
    logger.fatal({ err }, err instanceof StartupError ? err.message : `${opts.app} failed to start`);
    process.exit(1);
  }
}
