import { z } from 'zod';
import type { EnvVar } from './vars.js';

export type EnvVars = Record<string, EnvVar<unknown>>;
export type ConfigOf<V extends EnvVars> = { readonly [K in keyof V]: V[K] extends EnvVar<infer T> ? T : never };

export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/** A cross-variable rule: returns the problems it finds (empty when the config is fine). */
export type ConfigRule<C> = (config: C) => ConfigIssue[];

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(app: string, issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration for ${app}:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}\n` +
        'See ENV_VARS.md for every variable, its default and what it accepts.',
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface EnvDefinition<V extends EnvVars> {
  readonly app: string;
  readonly vars: V;
  readonly schema: z.ZodType<ConfigOf<V>>;
  /** Parses an environment; throws {@link ConfigError} naming every bad variable. */
  parse(env: Record<string, string | undefined>): ConfigOf<V>;
}

export function defineEnv<V extends EnvVars>(
  app: string,
  vars: V,
  rules: readonly ConfigRule<ConfigOf<V>>[] = [],
): EnvDefinition<V> {
  const shape = Object.fromEntries(Object.entries(vars).map(([name, v]) => [name, v.schema]));
  const schema = z.object(shape) as unknown as z.ZodType<ConfigOf<V>>;
  return {
    app,
    vars,
    schema,
    parse(env) {
      const input = Object.fromEntries(Object.keys(vars).map((name) => [name, env[name]]));
      const result = schema.safeParse(input);
      if (!result.success) {
        const issues = result.error.issues.map((issue) => ({
          variable: String(issue.path[0] ?? '(config)'),
          message: issue.message,
        }));
        throw new ConfigError(app, issues);
      }
      const config = Object.freeze(result.data);
      const ruleIssues = rules.flatMap((rule) => rule(config));
      if (ruleIssues.length > 0) throw new ConfigError(app, ruleIssues);
      return config;
    },
  };
}

/**
 * Loads the configuration of an app or exits the process with status 1 and a message on stderr
 * naming each bad variable and what it expects. Used by the apps' entry points only.
 */
export function loadConfigOrExit<V extends EnvVars>(
  definition: EnvDefinition<V>,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<V> {
  try {
    return definition.parse(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
