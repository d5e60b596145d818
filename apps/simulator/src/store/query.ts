export type SortOrder = 'ASCENDING' | 'DESCENDING';

export interface NamedQuery {
  readonly name?: string;
  readonly strictName?: boolean;
  readonly archived?: boolean;
  readonly sortColumn?: string;
  readonly sortOrder?: SortOrder;
}

export function matchesName(name: string, q: NamedQuery): boolean {
  if (q.name === undefined || q.name === '') return true;
  return q.strictName ? name === q.name : name.toLowerCase().includes(q.name.toLowerCase());
}

export function sortBy<T>(
  list: T[],
  key: (x: T) => string | number,
  id: (x: T) => string,
  order: SortOrder | undefined,
): void {
  const dir = order === 'DESCENDING' ? -1 : 1;
  list.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return (ka < kb ? -1 : 1) * dir;
    const ia = id(a);
    const ib = id(b);
    return (ia < ib ? -1 : ia > ib ? 1 : 0) * dir;
  });
}
