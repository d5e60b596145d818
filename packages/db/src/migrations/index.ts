import type { Migration } from 'kysely';
import * as initial from './20261128T090000_initial.js';
import * as tokenKinds from './20261204T100000_token_kinds_and_receipts.js';
import * as skippedWebhooks from './20261204T110000_skipped_webhooks.js';
import * as entityWebhookSeq from './20261204T120000_entity_webhook_seq.js';
import * as webhookHealth from './20261204T123000_webhook_health.js';
import * as receiptFollowups from './20261204T124500_receipt_followups.js';
import * as apiCallAudit from './20261205T090000_api_call_audit.js';
import * as forwardingRules from './20261205T100000_forwarding_rules.js';

/**
 * Every migration, by sortable timestamp name. Listed statically (not read from the file system)
 * so the same list works from sources, from dist and inside a bundled image.
 */
export const migrations: Record<string, Migration> = {
  '20261128T090000_initial': initial,
  '20261204T100000_token_kinds_and_receipts': tokenKinds,
  '20261204T110000_skipped_webhooks': skippedWebhooks,
  '20261204T120000_entity_webhook_seq': entityWebhookSeq,
  '20261204T123000_webhook_health': webhookHealth,
  '20261204T124500_receipt_followups': receiptFollowups,
  '20261205T090000_api_call_audit': apiCallAudit,
  '20261205T100000_forwarding_rules': forwardingRules,
};
