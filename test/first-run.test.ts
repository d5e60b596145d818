import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '@cap/observability';
import {
  deleteRedisPrefix,
  freePort,
  startAppProcess,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
} from '@cap/testing';
import { FIRST_RUN_ADMIN_FILE, firstRunAdmin } from '../scripts/first-run-admin.mjs';
import { scriptPath } from './dist.js';

/**
 * The first start as a new user sees it: `npm start` in a terminal prints readable logs and a
 * banner, and Bull Board is there behind a password generated once into DATA_DIR. Anywhere else
 * (a pipe, a log shipper, production) the logs stay JSON.
 */
const prefix = uniquePrefix('first-run');
const dirs: string[] = [];
afterAll(async () => {
  await deleteRedisPrefix(testRedisUrl(), prefix);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cap-first-run-'));
  dirs.push(d);
  return d;
};
// Terminal colour and cursor sequences (ESC [ … letter) and carriage returns.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const strip = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** `npm start` (the launcher, no build) with stdout on a pseudo-terminal, through util-linux `script`. */
function startOnTerminal(env: Record<string, string>) {
  const command = `${process.execPath} ${scriptPath('start.mjs')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  return {
    output: () => strip(output),
    exited,
    stop() {
      // The whole group: script, the launcher and the app process.
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    },
  };
}

describe('log format', () => {
  it('pretty only in development on a terminal; JSON in a pipe, in tests and always in production', () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(resolveLogFormat('auto', 'development', tty)).toBe('pretty');
    expect(resolveLogFormat('auto', 'development', pipe)).toBe('json');
    expect(resolveLogFormat('auto', 'test', tty)).toBe('json');
    expect(resolveLogFormat('auto', 'production', tty)).toBe('json');
    expect(resolveLogFormat('pretty', 'production', tty)).toBe('json');
    expect(resolveLogFormat('pretty', 'development', pipe)).toBe('pretty');
    expect(resolveLogFormat('json', 'development', tty)).toBe('json');
  });

  it('pretty lines are redacted like the JSON ones', () => {
    let written = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString('utf8');
        done();
      },
    });
    const logger = createLogger({ name: 'ingress', format: 'pretty' }, sink);
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJlcw';
    logger.info({ port: 8080, token }, `ready with ${token}`);
    expect(written).toMatch(/INFO: ingress \| ready with /);
    expect(written).toContain('port: 8080');
    expect(written).not.toContain(token);
    expect(written).not.toContain('{"level"');
  });
});

describe('first-run admin password (scripts/first-run-admin.mjs)', () => {
  it('is generated once, 0600, and reused; never in production or when credentials are set', () => {
    const dir = tempDir();
    const env: Record<string, string | undefined> = {};
    const first = firstRunAdmin(env, dir);
    expect(first).toEqual({ user: 'admin', path: join(dir, FIRST_RUN_ADMIN_FILE) });
    expect(statSync(first!.path).mode & 0o777).toBe(0o600);
    expect(env.ADMIN_PASSWORD).toBe(readFileSync(first!.path, 'utf8').trim());
    expect(env.ADMIN_PASSWORD!.length).toBeGreaterThanOrEqual(12);
    expect(env.ADMIN_BULL_BOARD_WRITE).toBe('false');
    expect(env.CAP_FIRST_RUN_ADMIN_FILE).toBe(first!.path);
    const again: Record<string, string | undefined> = {};
    firstRunAdmin(again, dir);
    expect(again.ADMIN_PASSWORD).toBe(env.ADMIN_PASSWORD);

    const prod = tempDir();
    expect(firstRunAdmin({ NODE_ENV: 'production' }, prod)).toBeUndefined();
    expect(existsSync(join(prod, FIRST_RUN_ADMIN_FILE))).toBe(false);
    const chosen = { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'chosen-password-1' };
    expect(firstRunAdmin(chosen, prod)).toBeUndefined();
    expect(chosen.ADMIN_PASSWORD).toBe('chosen-password-1');
    expect((chosen as Record<string, string | undefined>).CAP_FIRST_RUN_ADMIN_FILE).toBeUndefined();
  });
});

describe('npm start on a terminal', () => {
  it('prints readable logs and the banner, and serves Bull Board read-only behind the generated password', async () => {
    const dataDir = tempDir();
    const [port, workerPort, opsPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      REDIS_URL: testRedisUrl(),
      BULLMQ_PREFIX: prefix,
      DATA_DIR: dataDir,
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      INGRESS_OPS_PORT: String(opsPort),
      SKIP_BUILD: '1',
    };
    const p = startOnTerminal(env);
    let password = '';
    try {
      await waitFor(() => /Bull Board\s+http/.test(p.output()), {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the banner',
      });
      const out = p.output();
      expect(out).toMatch(/INFO: ingress \| ingress ready/);
      expect(out).not.toContain('{"level"');
      const file = join(dataDir, FIRST_RUN_ADMIN_FILE);
      expect(out).toContain(`Manifest           http://localhost:${port}/manifest`);
      expect(out).toContain(`http://localhost:${port}/admin/queues   user admin, password in ${file} (read-only)`);
      expect(out).toContain(`Worker ops         http://127.0.0.1:${workerPort}/ready`);
      expect(out).toMatch(/Database\s+embedded PGlite in /);
      expect(out).toMatch(/Clockify cannot reach BASE_URL/);
      password = readFileSync(file, 'utf8').trim();
      expect(out).not.toContain(password);

      const board = `http://127.0.0.1:${port}/admin/queues`;
      expect((await fetch(board)).status).toBe(401);
      expect((await fetch(board, { headers: basic('admin', password) })).status).toBe(200);
      const api = await fetch(`${board}/api/queues`, { headers: basic('admin', password) });
      const { queues } = (await api.json()) as { queues: { readOnlyMode: boolean }[] };
      expect(queues.length).toBe(4);
      expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    } finally {
      p.stop();
      await p.exited;
    }

    // The same data directory, stdout a pipe: JSON lines, no banner, the same password.
    const piped: AppProcess = startAppProcess(scriptPath('start.mjs'), env);
    try {
      await piped.waitForLine(/"msg":"running: /, 60_000);
      const lines = piped.output.filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(5);
      expect(piped.output.join('\n')).not.toContain('Bull Board');
      const res = await fetch(`http://127.0.0.1:${port}/admin/queues`, { headers: basic('admin', password) });
      expect(res.status).toBe(200);
    } finally {
      piped.kill('SIGTERM');
      expect(await piped.exited).toBe(0);
    }
  }, 150_000);
});
