import type { ColumnType, Selectable } from 'kysely';

export type EntitySource = 'webhook' | 'bootstrap';

/** The add-on's mirror of workspace data, unique on (workspace, entity type, entity id). */
export interface WorkspaceEntitiesTable {
  workspace_id: string;
  entity_type: string;
  /** As Clockify gives it. */
  entity_id: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  /** A tombstone: the entity was deleted; a late UPDATED must not resurrect it. */
  deleted: ColumnType<boolean, boolean | undefined, boolean>;
  source: EntitySource;
  last_event: string | null;
  /** The ingress's sequence of the last webhook applied (an older one is refused); NULL if none. */
  webhook_seq: ColumnType<number | null, number | null | undefined, number | null>;
  /** The bootstrap run that last saw this row (removal rule). */
  seen_run_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type WorkspaceEntity = Selectable<WorkspaceEntitiesTable>;
