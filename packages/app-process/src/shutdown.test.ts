import { describe, expect, it } from 'vitest';
import { Shutdown, type ShutdownLogger } from './shutdown.js';

function recordingLogger(): ShutdownLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (_obj, msg) => void lines.push(`info ${msg}`),
    error: (_obj, msg) => void lines.push(`error ${msg}`),
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Shutdown', () => {
  it('stops accepting first, then runs the phases in order: http → workers → queues → connections', async () => {
    const logger = recordingLogger();
    const shutdown = new Shutdown(logger, 5_000);
    const order: string[] = [];
    let acceptingDuringHooks: boolean | undefined;
    // Registered out of order on purpose: the phase decides, not the registration.
    shutdown.register('connections', 'redis', () => void order.push('connections:redis'));
    shutdown.register('queues', 'queues', () => void order.push('queues'));
    shutdown.register('http', 'server', async () => {
      acceptingDuringHooks = shutdown.accepting;
      await tick();
      order.push('http');
    });
    shutdown.register('workers', 'webhooks', async () => {
      await tick();
      order.push('workers:webhooks');
    });
    shutdown.register('workers', 'bootstrap', () => void order.push('workers:bootstrap'));
    shutdown.register('connections', 'postgres', () => void order.push('connections:postgres'));
    expect(shutdown.accepting).toBe(true);

    await shutdown.shutdown();
    expect(acceptingDuringHooks).toBe(false);
    expect(shutdown.accepting).toBe(false);
    // Hooks of one phase run together; every one of a phase ends before the next phase starts.
    expect(order.slice(0, 1)).toEqual(['http']);
    expect(order.slice(1, 3).sort()).toEqual(['workers:bootstrap', 'workers:webhooks']);
    expect(order[3]).toBe('queues');
    expect(order.slice(4).sort()).toEqual(['connections:postgres', 'connections:redis']);
    expect(logger.lines.at(-1)).toBe('info shutdown complete');
  });

  it('runs the hooks once however often it is asked', async () => {
    const shutdown = new Shutdown(recordingLogger(), 5_000);
    let runs = 0;
    shutdown.register('http', 'server', async () => {
      runs++;
      await tick();
    });
    await Promise.all([shutdown.shutdown(), shutdown.shutdown(), shutdown.shutdown()]);
    await shutdown.shutdown();
    expect(runs).toBe(1);
  });

  it('goes on past a failing hook, logging it', async () => {
    const logger = recordingLogger();
    const shutdown = new Shutdown(logger, 5_000);
    const closed: string[] = [];
    shutdown.register('workers', 'broken', () => {
      throw new Error('cannot close');
    });
    shutdown.register('connections', 'redis', () => void closed.push('redis'));
    await shutdown.shutdown();
    expect(closed).toEqual(['redis']);
    expect(logger.lines).toContain('error shutdown hook failed');
    expect(logger.lines.at(-1)).toBe('info shutdown complete');
  });

  it('is bounded by its timer: a hook that never ends makes it reject (the process then exits 1)', async () => {
    const logger = recordingLogger();
    const shutdown = new Shutdown(logger, 100);
    shutdown.register('workers', 'stuck', () => new Promise(() => undefined));
    const started = Date.now();
    await expect(shutdown.shutdown()).rejects.toThrow('shutdown did not finish within 100 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(logger.lines.at(-1)).toBe('error shutdown incomplete');
  });

  it('exits 0 after a clean shutdown on a signal, 1 when the timer fired', async () => {
    const exits: number[] = [];
    const clean = new Shutdown(recordingLogger(), 5_000);
    const uninstallClean = clean.installSignalHandlers((code) => exits.push(code));
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await clean.shutdown();
      await tick();
    } finally {
      uninstallClean();
    }
    const stuck = new Shutdown(recordingLogger(), 50);
    stuck.register('http', 'stuck', () => new Promise(() => undefined));
    const uninstallStuck = stuck.installSignalHandlers((code) => exits.push(code));
    try {
      process.emit('SIGINT', 'SIGINT');
      await stuck.shutdown().catch(() => undefined);
      await tick();
    } finally {
      uninstallStuck();
    }
    expect(exits).toEqual([0, 1]);
  });
});
