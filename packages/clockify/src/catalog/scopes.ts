/**
 * API scopes an add-on may request; the same 30 values in every manifest schema (1.2–1.6),
 * checked against the schema files by catalog.test.ts. WRITE does not imply READ: Clockify
 * answers 403 (sometimes 401) to a read without the READ scope (REFERENCE.md §1.7).
 */
export const SCOPES = [
  'CLIENT_READ',
  'CLIENT_WRITE',
  'PROJECT_READ',
  'PROJECT_WRITE',
  'TAG_READ',
  'TAG_WRITE',
  'TASK_READ',
  'TASK_WRITE',
  'TIME_ENTRY_READ',
  'TIME_ENTRY_WRITE',
  'EXPENSE_READ',
  'EXPENSE_WRITE',
  'INVOICE_READ',
  'INVOICE_WRITE',
  'USER_READ',
  'USER_WRITE',
  'GROUP_READ',
  'GROUP_WRITE',
  'WORKSPACE_READ',
  'WORKSPACE_WRITE',
  'CUSTOM_FIELDS_READ',
  'CUSTOM_FIELDS_WRITE',
  'APPROVAL_READ',
  'APPROVAL_WRITE',
  'SCHEDULING_READ',
  'SCHEDULING_WRITE',
  'REPORTS_READ',
  'REPORTS_WRITE',
  'TIME_OFF_READ',
  'TIME_OFF_WRITE',
] as const;

export type Scope = (typeof SCOPES)[number];

/** The READ scope matching `S`: `PROJECT_WRITE` → `PROJECT_READ`; a READ scope maps to itself. */
export type ReadScopeOf<S extends Scope> = S extends `${infer R}_WRITE` ? `${R}_READ` & Scope : S;

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES);

export function isScope(s: unknown): s is Scope {
  return typeof s === 'string' && SCOPE_SET.has(s);
}

export function readScopeFor<S extends Scope>(scope: S): ReadScopeOf<S> {
  return (scope.endsWith('_WRITE') ? `${scope.slice(0, -'_WRITE'.length)}_READ` : scope) as ReadScopeOf<S>;
}
