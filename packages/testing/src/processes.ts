import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

export interface AppProcess {
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr. */
  readonly output: string[];
  /** Resolves with the exit code (or 128+signal) once the process ended. */
  readonly exited: Promise<number>;
  /** Waits until an output line matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** A JSON field of the first log line whose `msg` matches. */
  logField<T>(msg: RegExp, field: string, timeoutMs?: number): Promise<T>;
  kill(signal?: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/**
 * Stops a server process a test started and resolves once it is gone; at once when it already is
 * (a process killed by a signal has no exit code, only a signal code).
 */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Runs a node script (an app's built entry point) with the given environment only. */
export function startAppProcess(script: string, env: Record<string, string>, args: string[] = []): AppProcess {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0))),
  );
  const self: AppProcess = {
    child,
    output,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      return waitFor(
        () =>
          output.find((l) => pattern.test(l)) ??
          (child.exitCode !== null
            ? Promise.reject(new Error(`process exited with ${child.exitCode}:\n${output.slice(-20).join('\n')}`))
            : undefined),
        {
          timeoutMs,
          intervalMs: 50,
          message: `a line matching ${pattern}`,
        },
      );
    },
    async logField<T>(msg: RegExp, field: string, timeoutMs = 30_000): Promise<T> {
      const line = await self.waitForLine(new RegExp(`"msg":"${msg.source}`), timeoutMs);
      return (JSON.parse(line) as Record<string, T>)[field] as T;
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  return self;
}
