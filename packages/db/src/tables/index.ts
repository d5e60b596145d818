import type { ApiCallAuditTable } from './api-calls.js';
import type { BootstrapResourcesTable, BootstrapRunsTable } from './bootstrap.js';
import type { DeadLettersTable } from './dead-letters.js';
import type { ForwardingRulesTable } from './forwarding.js';
import type { WorkspaceEntitiesTable } from './entities.js';
import type { InstallationWebhooksTable, InstallationsTable, LifecycleReceiptsTable } from './installations.js';
import type { WebhookEventsTable } from './webhook-events.js';

export * from './api-calls.js';
export * from './bootstrap.js';
export * from './dead-letters.js';
export * from './entities.js';
export * from './forwarding.js';
export * from './installations.js';
export * from './webhook-events.js';

export interface Database {
  installations: InstallationsTable;
  installation_webhooks: InstallationWebhooksTable;
  lifecycle_receipts: LifecycleReceiptsTable;
  webhook_events: WebhookEventsTable;
  bootstrap_runs: BootstrapRunsTable;
  bootstrap_resources: BootstrapResourcesTable;
  workspace_entities: WorkspaceEntitiesTable;
  dead_letters: DeadLettersTable;
  api_call_audit: ApiCallAuditTable;
  forwarding_rules: ForwardingRulesTable;
}
