import type { ColumnType, Generated, Selectable } from 'kysely';

/** An exhausted job, kept without secrets so an operator can read and replay it. */
export interface DeadLettersTable {
  id: Generated<number>;
  queue: string;
  job_name: string;
  job_id: string;
  workspace_id: string | null;
  payload: ColumnType<Record<string, unknown>, string, string>;
  error: string;
  attempts: number;
  failed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  replayed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  replay_job_id: string | null;
}

export type DeadLetter = Selectable<DeadLettersTable>;
