import type { ColumnType, Generated, Selectable } from 'kysely';

/** A forwarding rule of an installation; secrets and header values only as ciphertexts. */
export interface ForwardingRulesTable {
  id: Generated<string>;
  workspace_id: string;
  addon_id: string;
  name: string;
  events: ColumnType<string[], string, string>;
  filter: string | null;
  transform: string | null;
  destination_url: string;
  header_names: ColumnType<string[], string | undefined, string>;
  headers_enc: string | null;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  secret_rotated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type ForwardingRule = Selectable<ForwardingRulesTable>;
