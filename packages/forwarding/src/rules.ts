import jsonata from 'jsonata';
import { destinationProblem, type DestinationPolicy } from './destination.js';

/**
 * A forwarding rule as an operator or a workspace admin writes it, checked before it is saved:
 * a name, the events it takes (from those the add-on subscribes to), an optional JSONata filter
 * (the event is forwarded when it evaluates truthy) and transform (its result is the forwarded
 * `data`), and a destination with optional extra headers.
 */
export interface RuleInput {
  readonly name: string;
  readonly events: readonly string[];
  readonly filter?: string | null;
  readonly transform?: string | null;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
}

export interface RuleProblem {
  readonly field: 'name' | 'events' | 'filter' | 'transform' | 'url' | 'headers' | 'enabled' | 'rule';
  readonly message: string;
}

export const MAX_EXPRESSION_CHARS = 4000;
const MAX_HEADERS = 10;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
// Headers the platform sets itself, or that would change how the request is read.
const RESERVED_HEADERS =
  /^(?:host|content-length|content-type|transfer-encoding|connection|upgrade|te|trailer|expect|keep-alive|proxy-.*|webhook-.*|user-agent)$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSONata compile error of an expression, worded for the person who wrote it. */
export function expressionProblem(expression: string): string | undefined {
  if (expression.length > MAX_EXPRESSION_CHARS) return `is longer than ${MAX_EXPRESSION_CHARS} characters`;
  try {
    jsonata(expression);
    return undefined;
  } catch (err) {
    const e = err as { message?: string; position?: number; token?: string };
    return `is not valid JSONata: ${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`;
  }
}

/**
 * Every problem with a rule (none when it may be saved) and the rule normalized: trimmed name,
 * events deduplicated, empty expressions dropped.
 */
export function checkRule(
  input: unknown,
  opts: { readonly events: readonly string[]; readonly policy: DestinationPolicy },
): { problems: RuleProblem[]; rule?: RuleInput } {
  const problems: RuleProblem[] = [];
  if (!isRecord(input)) return { problems: [{ field: 'rule', message: 'must be a JSON object' }] };
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > 100) problems.push({ field: 'name', message: 'must be 1 to 100 characters' });
  const events = Array.isArray(input.events) ? [...new Set(input.events)] : [];
  if (events.length === 0) problems.push({ field: 'events', message: 'must list at least one event' });
  for (const e of events) {
    if (typeof e !== 'string' || !opts.events.includes(e)) {
      problems.push({ field: 'events', message: `${String(e)} is not an event this add-on subscribes to` });
    }
  }
  const expr = (field: 'filter' | 'transform') => {
    const v = input[field];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
    if (typeof v !== 'string') {
      problems.push({ field, message: 'must be a JSONata expression (a string)' });
      return undefined;
    }
    const p = expressionProblem(v);
    if (p) problems.push({ field, message: p });
    return v;
  };
  const filter = expr('filter');
  const transform = expr('transform');
  const url = typeof input.url === 'string' ? input.url.trim() : '';
  const urlProblem = destinationProblem(url, opts.policy);
  if (urlProblem) problems.push({ field: 'url', message: urlProblem });
  const headers: Record<string, string> = {};
  if (input.headers !== undefined) {
    if (!isRecord(input.headers))
      problems.push({ field: 'headers', message: 'must be an object of header names to values' });
    else {
      const entries = Object.entries(input.headers);
      if (entries.length > MAX_HEADERS) problems.push({ field: 'headers', message: `at most ${MAX_HEADERS} headers` });
      for (const [k, v] of entries) {
        if (!HEADER_NAME.test(k)) problems.push({ field: 'headers', message: `${k} is not a header name` });
        else if (RESERVED_HEADERS.test(k)) problems.push({ field: 'headers', message: `${k} is set by the platform` });
        else if (typeof v !== 'string' || v.length > 1024 || /[\r\n\0]/.test(v)) {
          problems.push({ field: 'headers', message: `${k} must be a single-line string of at most 1024 characters` });
        } else headers[k.toLowerCase()] = v;
      }
    }
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    problems.push({ field: 'enabled', message: 'must be true or false' });
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    rule: {
      name,
      events: events as string[],
      ...(filter ? { filter } : {}),
      ...(transform ? { transform } : {}),
      url,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      enabled: input.enabled !== false,
    },
  };
}

/** What a rule does with one event: skip it (filter false), or forward `data`. */
export type RuleOutcome = { readonly forward: false } | { readonly forward: true; readonly data: unknown };

const compiled = new Map<string, jsonata.Expression>();

/**
 * Bounds of one evaluation (JSONata's own guardrails): wall time, nesting depth and sequence
 * length, so an expression written by a workspace admin cannot hold a worker; and the size of a
 * transform's result.
 */
export const EVALUATION_LIMITS = { timeoutMs: 200, stack: 300, sequence: 100_000, resultBytes: 256 * 1024 } as const;

function expression(text: string): jsonata.Expression {
  let e = compiled.get(text);
  if (!e) {
    e = jsonata(text, {
      timeout: EVALUATION_LIMITS.timeoutMs,
      stack: EVALUATION_LIMITS.stack,
      sequence: EVALUATION_LIMITS.sequence,
    });
    if (compiled.size > 500) compiled.clear();
    compiled.set(text, e);
  }
  return e;
}

/**
 * Applies a rule's filter and transform to an event body. `$event` and `$workspaceId` are bound.
 * Throws when an expression fails at evaluation or passes EVALUATION_LIMITS (the caller records it
 * as the delivery's error).
 */
export async function applyRule(
  rule: { readonly filter?: string | null; readonly transform?: string | null },
  body: unknown,
  bindings: { readonly event: string; readonly workspaceId: string },
): Promise<RuleOutcome> {
  const vars = { event: bindings.event, workspaceId: bindings.workspaceId };
  if (rule.filter) {
    const keep = (await expression(rule.filter).evaluate(body, vars)) as unknown;
    if (!keep) return { forward: false };
  }
  const data = rule.transform ? ((await expression(rule.transform).evaluate(body, vars)) as unknown) : body;
  const size = Buffer.byteLength(JSON.stringify(data ?? null));
  if (size > EVALUATION_LIMITS.resultBytes) {
    throw new Error(`the transform's result is ${size} bytes, more than ${EVALUATION_LIMITS.resultBytes}`);
  }
  return { forward: true, data: data === undefined ? null : data };
}
