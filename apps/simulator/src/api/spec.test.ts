import { describe, expect, it } from 'vitest';
import { OperationIndex, requiredScope, validateQuery } from './spec.js';

const index = OperationIndex.official();
const op = (id: string) => {
  const found = index.get(id);
  if (!found) throw new Error(`no ${id}`);
  return found;
};

describe('OperationIndex', () => {
  it('holds every operation of the official spec', () => {
    expect(index.operations).toHaveLength(158);
    expect(new Set(index.operations.map((o) => o.operationId)).size).toBe(158);
  });

  it('prefers literal segments over parameters, like Spring', () => {
    const inProgress = index.match('GET', '/v1/workspaces/abc/time-entries/status/in-progress');
    expect(inProgress.kind === 'matched' && inProgress.operation.operationId).toBe('getInProgressTimeEntries');
    const single = index.match('GET', '/v1/workspaces/abc/time-entries/def');
    expect(single).toMatchObject({
      kind: 'matched',
      operation: { operationId: 'getTimeEntry' },
      pathParams: { workspaceId: 'abc', id: 'def' },
    });
  });

  it('reports the methods a known path does have', () => {
    expect(index.match('PATCH', '/v1/workspaces/abc/tags')).toEqual({
      kind: 'not-found',
      allowedMethods: ['GET', 'POST'],
    });
    expect(index.match('GET', '/v1/nothing/here')).toEqual({ kind: 'not-found', allowedMethods: [] });
  });

  it('knows which operations page, their default size and maximum, and which live on the reports host', () => {
    expect(op('getTags')).toMatchObject({ paged: true, defaultPageSize: 50 });
    expect(op('getUsersOfWorkspace')).toMatchObject({ paged: true });
    expect(op('ofWorkspace').paged).toBe(false);
    expect(op('getCreatedEntityInfo').paged).toBe(false);
    expect(op('getInProgressTimeEntries')).toMatchObject({ paged: true, defaultPageSize: 10, maxPageSize: 1000 });
    expect(op('generateDetailedReport').server).toBe('reports');
    expect(op('getTags').server).toBe('api');
    expect(op('getWorkspacesOfUser').acceptsAddonToken).toBe(false);
    expect(op('getTags').acceptsAddonToken).toBe(true);
  });
});

describe('validateQuery', () => {
  it('requires include-roles on the users list', () => {
    expect(validateQuery(op('getUsersOfWorkspace'), new URLSearchParams(''))?.param).toBe('include-roles');
    expect(validateQuery(op('getUsersOfWorkspace'), new URLSearchParams('include-roles=false'))).toBeUndefined();
  });

  it('checks enums, integers, booleans and ranges', () => {
    const users = op('getUsersOfWorkspace');
    expect(
      validateQuery(users, new URLSearchParams('include-roles=true&status=ALL&sort-order=DESCENDING')),
    ).toBeUndefined();
    expect(validateQuery(users, new URLSearchParams('include-roles=true&status=all'))?.param).toBe('status');
    expect(validateQuery(users, new URLSearchParams('include-roles=true&page=x'))?.param).toBe('page');
    expect(validateQuery(op('getTags'), new URLSearchParams('archived=maybe'))?.param).toBe('archived');
    expect(validateQuery(op('getInProgressTimeEntries'), new URLSearchParams('page-size=1000'))).toBeUndefined();
    expect(validateQuery(op('getInProgressTimeEntries'), new URLSearchParams('page-size=1001'))?.param).toBe(
      'page-size',
    );
  });
});

describe('requiredScope', () => {
  it('names the scope an operation plausibly needs', () => {
    expect(requiredScope(op('getTasks'))).toBe('TASK_READ');
    expect(requiredScope(op('createNewTag'))).toBe('TAG_WRITE');
    expect(requiredScope(op('getTimeEntries'))).toBe('TIME_ENTRY_READ');
    expect(requiredScope(op('generateDetailedReport'))).toBe('REPORTS_READ');
    expect(requiredScope(op('getUserGroups'))).toBe('GROUP_READ');
    expect(requiredScope(op('getWorkspaceOfUser'))).toBe('WORKSPACE_READ');
  });
});
