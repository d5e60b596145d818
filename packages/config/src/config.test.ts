import { describe, expect, it } from 'vitest';
import { ConfigError, defineEnv } from './define.js';
import { bool, int, list, oneOf, str, url } from './vars.js';
import { productionRules, secretVars, runtimeVars } from './fragments.js';

const def = defineEnv(
  'test-app',
  {
    ...runtimeVars,
    ...secretVars,
    PORT: int({ default: 8080, min: 0, max: 65535, description: 'port' }),
    FLAG: bool({ default: true, description: 'flag' }),
    MODE: oneOf(['a', 'b'] as const, { default: 'a', description: 'mode' }),
    NAME: str({ optional: true, description: 'name' }),
    HOSTS: list({ default: ['x'], description: 'hosts' }),
    TARGET: url({ default: 'http://localhost', protocols: ['http', 'https'], description: 'target' }),
  },
  [productionRules],
);

function issuesOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    def.parse(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('applies the documented defaults', () => {
    const cfg = def.parse({});
    expect(cfg.PORT).toBe(8080);
    expect(cfg.FLAG).toBe(true);
    expect(cfg.MODE).toBe('a');
    expect(cfg.NAME).toBeUndefined();
    expect(cfg.HOSTS).toEqual(['x']);
    expect(cfg.NODE_ENV).toBe('development');
    expect(cfg.DATA_DIR).toMatch(/\.data$/);
  });

  it('coerces and validates values', () => {
    const cfg = def.parse({ PORT: '0', FLAG: 'false', MODE: 'b', HOSTS: ' a , b ,', NAME: ' n ' });
    expect(cfg).toMatchObject({ PORT: 0, FLAG: false, MODE: 'b', HOSTS: ['a', 'b'], NAME: 'n' });
  });

  it('names every bad variable and what it expects', () => {
    const issues = issuesOf({ PORT: 'eighty', FLAG: 'yes', MODE: 'c', TARGET: 'ftp://x' });
    expect(issues.map((i) => i.variable).sort()).toEqual(['FLAG', 'MODE', 'PORT', 'TARGET']);
    expect(issues.find((i) => i.variable === 'PORT')?.message).toBe(
      'expected an integer between 0 and 65535, got "eighty"',
    );
    expect(issues.find((i) => i.variable === 'FLAG')?.message).toContain('`true` or `false`');
  });

  it('never echoes a secret value', () => {
    const issues = issuesOf({ TOKEN_ENCRYPTION_KEY: 'not-a-key-but-secret' });
    expect(issues[0]?.variable).toBe('TOKEN_ENCRYPTION_KEY');
    expect(JSON.stringify(issues)).not.toContain('not-a-key-but-secret');
  });

  it('requires the encryption key in production', () => {
    const issues = issuesOf({ NODE_ENV: 'production' });
    expect(issues).toEqual([expect.objectContaining({ variable: 'TOKEN_ENCRYPTION_KEY' })]);
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(def.parse({ NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: key }).TOKEN_ENCRYPTION_KEY).toBe(key);
  });

  it('formats the error for humans', () => {
    try {
      def.parse({ PORT: '-1' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('PORT: expected an integer between 0 and 65535, got "-1"');
      expect((err as Error).message).toContain('ENV_VARS.md');
    }
  });
});
