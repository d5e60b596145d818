export type ShutdownPhase = 'http' | 'workers' | 'queues' | 'connections';

const PHASES: readonly ShutdownPhase[] = ['http', 'workers', 'queues', 'connections'];

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Hook {
  readonly phase: ShutdownPhase;
  readonly name: string;
  readonly run: () => Promise<unknown> | unknown;
}

/**
 * The single shutdown path of a process: on SIGTERM/SIGINT it marks the process not ready, then
 * runs hooks phase by phase (stop HTTP → close workers → close queues → close connections),
 * bounded by a timer. Exit 0 when every hook finished in time, 1 otherwise.
 */
export class Shutdown {
  private readonly hooks: Hook[] = [];
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly logger: ShutdownLogger,
    private readonly timeoutMs: number,
  ) {}

  /** False once shutdown began; /ready answers 503 from then on. */
  get accepting(): boolean {
    return !this.stopping;
  }

  register(phase: ShutdownPhase, name: string, run: () => Promise<unknown> | unknown): void {
    this.hooks.push({ phase, name, run });
  }

  /**
   * Installs SIGTERM/SIGINT handlers that run {@link shutdown} and exit: 0 when every hook
   * finished in time, 1 when the timer fired. Returns a function that removes them.
   */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): () => void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'shutdown requested');
      void this.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  /** Runs the hooks once (later calls wait for the first). Rejects if the timer fired first. */
  shutdown(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    this.stopping = true;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`shutdown did not finish within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      timer.unref();
    });
    try {
      await Promise.race([this.runHooks(), timeout]);
      this.logger.info({ ms: Date.now() - started }, 'shutdown complete');
    } catch (err) {
      this.logger.error({ err }, 'shutdown incomplete');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async runHooks(): Promise<void> {
    for (const phase of PHASES) {
      // Hooks of one phase run together (e.g. every worker closes at once); later registrations
      // of a phase are independent of each other by construction.
      await Promise.all(
        this.hooks
          .filter((h) => h.phase === phase)
          .map(async (h) => {
            try {
              await h.run();
            } catch (err) {
              this.logger.error({ err, hook: h.name, phase }, 'shutdown hook failed');
            }
          }),
      );
    }
  }
}
