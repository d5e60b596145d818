import { ENTITY_EVENTS, entityIdOf, type WebhookEventName, type WebhookPayload } from '@cap/clockify';
import type { HandlerContext } from '@cap/addon';

export const MIRROR_TIME_ENTRIES_SETTING = 'mirror-time-entries';

/**
 * Mirrors the entity in a webhook body into `workspace_entities`, in the handler's transaction.
 * Deliveries can overtake each other: a creation never overwrites an existing copy, and deletes
 * leave tombstones so a late UPDATED cannot resurrect a deleted entity. Two updates that arrive
 * out of order cannot be told apart (bodies carry no version); the scheduled reconciliation heals
 * that and anything webhooks missed.
 */
export function mirrorEntity<E extends WebhookEventName>(payload: WebhookPayload<E>, ctx: HandlerContext<E>): void {
  const mapping = ENTITY_EVENTS[ctx.event as keyof typeof ENTITY_EVENTS];
  if (!mapping) {
    ctx.logger.warn({ event: ctx.event }, 'event is not an entity event; nothing to mirror');
    return;
  }
  if (mapping.entityType === 'time_entry' && ctx.setting<boolean>(MIRROR_TIME_ENTRIES_SETTING) === false) {
    ctx.logger.debug({ event: ctx.event }, 'time entries are not mirrored in this workspace (setting)');
    return;
  }
  const body = payload as Record<string, unknown>;
  const entityId = entityIdOf(ctx.event, body);
  if (!entityId) {
    // A body without an id cannot be mirrored; failing would only retry the same body.
    ctx.logger.warn({ event: ctx.event }, 'webhook body has no entity id; skipped');
    return;
  }
  // Applied when the handler returns, with the deliveries committed alongside (see MirrorWrites).
  // A partial body (USER_UPDATED: id, email and name) is merged: it must not erase what it lacks.
  if (mapping.op === 'delete') ctx.mirror.deleted(mapping.entityType, entityId, body);
  else if (mapping.op === 'create') ctx.mirror.created(mapping.entityType, entityId, body);
  else if (ctx.bodyKind === 'partial') ctx.mirror.merged(mapping.entityType, entityId, body);
  else ctx.mirror.updated(mapping.entityType, entityId, body);
}
