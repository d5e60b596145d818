import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';

/**
 * Named prepared statements for the few queries every webhook runs (the delivery claim and the
 * mirror writes). Postgres then parses and plans each of them once per connection instead of
 * once per delivery, which saves Postgres CPU on every webhook
 * (measured: see bench/worker/README.md, section "Prepared statements").
 *
 * Opt-in, so the cache stays small and safe: a query is prepared only if it has parameters and
 * its text carries PREPARED_MARK (a SQL comment; `sql\`${PREPARED} …\`` or
 * `.modifyEnd(PREPARED)`). Marked queries must not return `*` (a prepared statement whose result
 * columns change after a migration would fail until its connection closes); the marked ones
 * return nothing or fixed columns.
 */
export const PREPARED_MARK = '/* prepared */';

/** The marker as an expression for `sql` templates and query builders' `modifyEnd`. */
export const PREPARED: RawBuilder<unknown> = sql.raw(PREPARED_MARK);

/** Prepared statements kept per connection at most; further marked texts run unprepared. */
export const MAX_PREPARED_PER_CONNECTION = 64;

interface QueryableClient {
  query: (...args: unknown[]) => unknown;
}

/**
 * Makes a pg client send marked parameterised queries as named statements (name = a hash of the
 * text, so every connection prepares a text once and all agree on its name).
 */
export function prepareMarkedQueries(client: QueryableClient): void {
  const original = client.query.bind(client);
  // Text → statement name, for the texts this connection prepared (hashed once each).
  const names = new Map<string, string>();
  client.query = (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && text.includes(PREPARED_MARK)) {
      let name = names.get(text);
      if (name === undefined && names.size < MAX_PREPARED_PER_CONNECTION) {
        name = `prep_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
        names.set(text, name);
      }
      if (name !== undefined) return original({ name, text, values }, ...args.slice(2));
    }
    return original(...args);
  };
}
