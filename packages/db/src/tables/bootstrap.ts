import type { ColumnType, Generated, Selectable } from 'kysely';

export type BootstrapRunStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'PARTIAL' | 'FAILED';
export type BootstrapTrigger = 'install' | 'manual' | 'reconcile';
export type BootstrapResourceStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'FAILED';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface BootstrapRunsTable {
  id: Generated<string>;
  workspace_id: string;
  addon_id: string;
  status: BootstrapRunStatus;
  trigger: BootstrapTrigger;
  /** The bootstrap.start job that created the run (a retry of it resumes the same run). */
  job_id: string | null;
  error: string | null;
  paused_until: NullableTimestamp;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

/** One row per resource of a run: its cursor makes a killed worker cost one page, not the run. */
export interface BootstrapResourcesTable {
  run_id: string;
  resource: string;
  status: BootstrapResourceStatus;
  cursor: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  pages: ColumnType<number, number | undefined, number>;
  items: ColumnType<number, number | undefined, number>;
  requests: ColumnType<number, number | undefined, number>;
  error: string | null;
  missing_scope: string | null;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

export type BootstrapRun = Selectable<BootstrapRunsTable>;
export type BootstrapResource = Selectable<BootstrapResourcesTable>;
