import type { Stack } from '../stack.js';

/**
 * Sends distinct NEW_TAG webhooks through the real ingress and remembers which ones were
 * acknowledged (2xx): those, and only those, must all be processed in the end.
 */
export class DeliveryLedger {
  readonly acknowledged = new Set<string>();
  readonly refused = new Map<number, number>();
  readonly slowest: number[] = [];
  private seq = 0;

  constructor(private readonly stack: Stack) {}

  async send(count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const id = (++this.seq).toString(16).padStart(24, '0');
        const body = { ...this.stack.sim.buildWebhook('NEW_TAG'), id, name: `tag ${id}` };
        const started = Date.now();
        try {
          const res = await this.stack.sim.sendWebhook('NEW_TAG', body);
          if (res.status >= 200 && res.status < 300) this.acknowledged.add(id);
          else this.refused.set(res.status, (this.refused.get(res.status) ?? 0) + 1);
        } catch {
          this.refused.set(0, (this.refused.get(0) ?? 0) + 1);
        }
        this.slowest.push(Date.now() - started);
      }),
    );
  }

  /** Entity ids whose delivery is done in Postgres. */
  async processed(): Promise<Set<string>> {
    const rows = await this.stack.ingress.context.database.db
      .selectFrom('webhook_events')
      .select('entity_id')
      .where('workspace_id', '=', this.stack.workspaceId)
      .where('event', '=', 'NEW_TAG')
      .where('status', '=', 'done')
      .execute();
    return new Set(rows.map((r) => r.entity_id ?? ''));
  }

  maxLatencyMs(): number {
    return Math.max(0, ...this.slowest);
  }
}
