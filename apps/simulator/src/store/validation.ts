import { parseInstant } from './format.js';

export class StoreError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function requireName(name: string, what: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length === 0) throw new StoreError(400, `A ${what} needs a name`);
  if (trimmed.length > 250) throw new StoreError(400, `The ${what} name is longer than 250 characters`);
  return trimmed;
}

export function instant(value: string, what: string): number {
  const ms = parseInstant(value);
  if (Number.isNaN(ms))
    throw new StoreError(400, `'${value.slice(0, 40)}' is not a valid ${what} (expected yyyy-MM-ddThh:mm:ssZ)`);
  return ms;
}
