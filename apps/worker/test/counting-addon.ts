import type { HandlerContext, RegisteredAddon, WebhookHandler } from '@cap/addon';
import { addon as exampleAddon, mirrorEntity } from '@cap/workspace-mirror';
import type { WebhookEventName } from '@cap/clockify';

/**
 * The example add-on with every handler wrapped: it counts runs per event and entity and can be
 * told to fail, so tests can see exactly how often a handler ran.
 */
export interface CountingAddon {
  readonly addon: RegisteredAddon;
  /** Completed handler runs by `EVENT/entityId`. */
  readonly runs: Map<string, number>;
  /** Events whose handler throws while listed. */
  readonly failing: Set<string>;
  /** Attempts seen by failing handlers. */
  readonly attempts: number[];
  /** More work for an event's handler, run after the mirror write in the same transaction. */
  readonly extra: Map<string, (payload: unknown, ctx: HandlerContext) => Promise<void>>;
  count(event: string, entityId: string): number;
}

export function countingAddon(): CountingAddon {
  const runs = new Map<string, number>();
  const failing = new Set<string>();
  const attempts: number[] = [];
  const extra = new Map<string, (payload: unknown, ctx: HandlerContext) => Promise<void>>();
  const handlers: Partial<Record<WebhookEventName, WebhookHandler<WebhookEventName>>> = {};
  for (const event of exampleAddon.events) {
    handlers[event] = async (payload, ctx) => {
      if (failing.has(event)) {
        attempts.push(ctx.attempt);
        throw new Error(`handler for ${event} is failing on purpose`);
      }
      mirrorEntity(payload, ctx);
      await extra.get(event)?.(payload, ctx);
      const id = String((payload as { id?: unknown }).id ?? '');
      // Counted only if the transaction commits: a rollback after this line would not happen here.
      runs.set(`${event}/${id}`, (runs.get(`${event}/${id}`) ?? 0) + 1);
    };
  }
  return {
    addon: { ...exampleAddon, handlers },
    runs,
    failing,
    attempts,
    extra,
    count: (event, entityId) => runs.get(`${event}/${entityId}`) ?? 0,
  };
}
