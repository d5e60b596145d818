import { z } from 'zod';

/**
 * One environment variable: how it is parsed (a zod schema that accepts the raw string or
 * `undefined`) and how it is documented. The docs are generated from these objects, so they
 * cannot drift from what the code accepts.
 */
export interface EnvVar<T> {
  readonly schema: z.ZodType<T, string | undefined>;
  readonly doc: EnvDoc;
}

export interface EnvDoc {
  /** What the variable is for, one or two sentences. */
  readonly description: string;
  /** A short human description of the accepted values, used in docs and error messages. */
  readonly expected: string;
  /** The default as it would be written in the environment, or a sentence when it is derived. */
  readonly default?: string;
  /** Never print the value (keys, passwords). */
  readonly secret?: boolean;
}

type Raw = string | undefined;

function build<T>(
  parse: z.ZodType<T, string>,
  doc: EnvDoc,
  fallback: T | (() => T) | undefined,
  optional: boolean,
): EnvVar<T> {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
      if (value === undefined) {
        if (fallback !== undefined) return typeof fallback === 'function' ? (fallback as () => T)() : fallback;
        if (optional) return undefined as T;
        ctx.addIssue({ code: 'custom', message: `is required: expected ${doc.expected}` });
        return z.NEVER;
      }
      const result = parse.safeParse(value);
      if (!result.success) {
        const shown = doc.secret ? '' : `, got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
        ctx.addIssue({ code: 'custom', message: `expected ${doc.expected}${shown}` });
        return z.NEVER;
      }
      return result.data;
    });
  return { schema: schema as unknown as z.ZodType<T, Raw>, doc };
}

interface Common {
  description: string;
  secret?: boolean;
}

export function int(opts: Common & { default?: number; min?: number; max?: number }): EnvVar<number>;
export function int(opts: Common & { optional: true; min?: number; max?: number }): EnvVar<number | undefined>;
export function int(
  opts: Common & { default?: number; min?: number; max?: number; optional?: boolean },
): EnvVar<number | undefined> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const range =
    opts.min !== undefined && opts.max !== undefined
      ? ` between ${opts.min} and ${opts.max}`
      : opts.min !== undefined
        ? ` ≥ ${opts.min}`
        : opts.max !== undefined
          ? ` ≤ ${opts.max}`
          : '';
  const parse = z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
  return build(
    parse,
    {
      description: opts.description,
      expected: `an integer${range}`,
      ...(opts.default !== undefined ? { default: String(opts.default) } : {}),
    },
    opts.default,
    opts.optional === true,
  );
}

export function bool(opts: Common & { default: boolean }): EnvVar<boolean> {
  const parse = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
  return build(
    parse,
    { description: opts.description, expected: '`true` or `false`', default: String(opts.default) },
    opts.default,
    false,
  );
}

/** `default` may be computed at parse time; `defaultDoc` then says what it depends on. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
  opts: Common & ({ default: T[number] } | { default: () => T[number]; defaultDoc: string }),
): EnvVar<T[number]> {
  return build(
    z.enum(values),
    {
      description: opts.description,
      expected: `one of ${values.map((v) => `\`${v}\``).join(', ')}`,
      default: 'defaultDoc' in opts ? opts.defaultDoc : opts.default,
    },
    opts.default,
    false,
  );
}

export function str(opts: Common & { default: string; pattern?: RegExp; expected?: string }): EnvVar<string>;
export function str(
  opts: Common & { optional: true; pattern?: RegExp; expected?: string; defaultDoc?: string },
): EnvVar<string | undefined>;
export function str(
  opts: Common & {
    default?: string;
    optional?: boolean;
    pattern?: RegExp;
    expected?: string;
    defaultDoc?: string;
  },
): EnvVar<string | undefined> {
  const parse = opts.pattern ? z.string().regex(opts.pattern) : z.string();
  const defaultDoc = opts.default ?? opts.defaultDoc;
  return build(
    parse,
    {
      description: opts.description,
      expected: opts.expected ?? 'a non-empty string',
      ...(defaultDoc !== undefined ? { default: defaultDoc } : {}),
      ...(opts.secret ? { secret: true } : {}),
    },
    opts.default,
    opts.optional === true,
  );
}

/** A string whose default is computed at load time (documented by `defaultDoc`). */
export function derived(
  opts: Common & { compute: () => string; defaultDoc: string; expected?: string },
): EnvVar<string> {
  return build(
    z.string(),
    { description: opts.description, expected: opts.expected ?? 'a path', default: opts.defaultDoc },
    opts.compute,
    false,
  );
}

export function url(
  opts: Common & { default?: string; protocols: readonly string[]; optional?: boolean; defaultDoc?: string },
): EnvVar<string> {
  const parse = z.string().refine((v) => {
    try {
      const u = new URL(v);
      return opts.protocols.includes(u.protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  });
  const defaultDoc = opts.default ?? opts.defaultDoc;
  return build(
    parse,
    {
      description: opts.description,
      expected: `a ${opts.protocols.join(' or ')} URL`,
      ...(defaultDoc !== undefined ? { default: defaultDoc } : {}),
      ...(opts.secret ? { secret: true } : {}),
    },
    opts.default,
    opts.optional === true,
  ) as EnvVar<string>;
}

export function optionalUrl(
  opts: Common & { protocols: readonly string[]; defaultDoc?: string },
): EnvVar<string | undefined> {
  return url({ ...opts, optional: true }) as EnvVar<string | undefined>;
}

/** Comma-separated list; items trimmed, empty items dropped. */
export function list(
  opts: Common & { default: readonly string[]; item?: RegExp; expected?: string; allowEmpty?: boolean },
): EnvVar<string[]> {
  const parse = z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .refine((items) => (opts.allowEmpty ?? false) || items.length > 0)
    .refine((items) => !opts.item || items.every((i) => opts.item!.test(i)));
  return build(
    parse,
    {
      description: opts.description,
      expected: opts.expected ?? 'a comma-separated list',
      default: opts.default.length > 0 ? opts.default.join(',') : '(empty)',
    },
    () => [...opts.default],
    false,
  );
}
