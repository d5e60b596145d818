import type { WebhookEventName } from '@cap/clockify';

export type EntityKind =
  'workspace' | 'user' | 'userGroup' | 'client' | 'project' | 'task' | 'tag' | 'customField' | 'timeEntry';

/**
 * What a mutation changed, with the webhook Clockify sends for it (undefined when Clockify sends
 * none, e.g. custom fields). `entity` is a snapshot after the change (for deletions: the entity as
 * it was), `previous` the snapshot before. Snapshots are copies: later changes do not alter them.
 */
export interface StoreChange<T = unknown> {
  readonly workspaceId: string;
  readonly event: WebhookEventName | undefined;
  readonly entityType: EntityKind;
  readonly kind: 'created' | 'updated' | 'deleted';
  readonly entity: T;
  readonly previous?: T;
  /** Other entities touched by the same operation (e.g. the second half of a split entry). */
  readonly related?: readonly unknown[];
  /** Changes that happened first as a consequence (e.g. a running timer stopped by a new one). */
  readonly also?: readonly StoreChange[];
}

export function change<T>(
  workspaceId: string,
  event: WebhookEventName | undefined,
  entityType: EntityKind,
  kind: StoreChange['kind'],
  entity: T,
  previous?: T,
): StoreChange<T> {
  return {
    workspaceId,
    event,
    entityType,
    kind,
    entity: copy(entity),
    ...(previous !== undefined ? { previous } : {}),
  };
}

/** A deep copy: what reads return and changes carry, so callers cannot corrupt the store. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}
