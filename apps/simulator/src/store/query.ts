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

/** Sorts named entities as their list operations do: by id when `sortColumn` is ID, else by name (case-insensitive), ties by id. */
export function sortNamed<T extends { readonly id: string; readonly name: string }>(
  list: T[],
  q: { readonly sortColumn?: string; readonly sortOrder?: SortOrder },
): void {
  sortBy(
    list,
    (x) => (q.sortColumn === 'ID' ? x.id : x.name.toLowerCase()),
    (x) => x.id,
    q.sortOrder,
  );
}
