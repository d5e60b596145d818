import { describe, expect, it } from 'vitest';
import { infrastructureBackoffMs, isInfrastructureError } from './infrastructure-errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isInfrastructureError', () => {
  it('knows an unreachable or refusing Postgres or Redis, a pool timeout, a deadlock', () => {
    for (const err of [
      withCode('ECONNREFUSED'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('40P01', 'deadlock detected'),
      withCode('40001', 'could not serialize access'),
      withCode('53300', 'sorry, too many clients already'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection is closed.'),
      Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }),
      new Error('wrapped', { cause: withCode('ECONNRESET') }),
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all failed'),
    ]) {
      expect(isInfrastructureError(err), String((err as Error).message)).toBe(true);
    }
  });

  it('leaves a job’s own errors alone: they spend attempts', () => {
    for (const err of [
      new Error('handler for NEW_TAG is failing on purpose'),
      withCode('23505', 'duplicate key value violates unique constraint'),
      withCode('42P01', 'relation "nope" does not exist'),
      'a string',
      undefined,
    ]) {
      expect(isInfrastructureError(err)).toBe(false);
    }
  });

  it('backs off by doubling up to the cap', () => {
    expect([0, 1, 2, 5, 50].map((n) => infrastructureBackoffMs(n, 1000, 30_000))).toEqual([
      1000, 2000, 4000, 30_000, 30_000,
    ]);
  });
});
