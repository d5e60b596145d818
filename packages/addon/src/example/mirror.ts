import { ENTITY_EVENTS, entityIdOf, type WebhookEventName, type WebhookPayload } from '@cap/clockify';
import { insertEntityIfAbsent, tombstoneEntity, upsertEntityFromWebhook } from '@cap/db';
import type { HandlerContext } from '../define.js';

export const MIRROR_TIME_ENTRIES_SETTING = 'mirror-time-entries';

/**
 * Mirrors the entity in a webhook body into `workspace_entities`, in the handler's transaction.
 * Deliveries can overtake each other: a creation never overwrites an existing copy, and deletes
 * leave tombstones so a late UPDATED cannot resurrect a deleted entity. Two updates that arrive
 * out of order cannot be told apart (bodies carry no version); the scheduled reconciliation heals
 * that and anything webhooks missed.
 */
export async function mirrorEntity<E extends WebhookEventName>(
  payload: WebhookPayload<E>,
  ctx: HandlerContext<E>,
): Promise<void> {
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
  const key = { workspaceId: ctx.workspaceId, entityType: mapping.entityType, entityId };
  if (mapping.op === 'delete') {
    await tombstoneEntity(ctx.tx, key, body, ctx.event);
    return;
  }
  if (mapping.op === 'create') {
    const created = await insertEntityIfAbsent(ctx.tx, key, body, ctx.event);
    if (!created) {
      ctx.logger.debug(
        { event: ctx.event, entityType: mapping.entityType, entityId },
        'a later change arrived first; creation ignored',
      );
    }
    return;
  }
  const written = await upsertEntityFromWebhook(ctx.tx, key, body, ctx.event);
  if (!written)
    ctx.logger.info(
      { event: ctx.event, entityType: mapping.entityType, entityId },
      'entity was deleted earlier; late update ignored',
    );
}
