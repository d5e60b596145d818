import { isWebhookEventName, type WebhookEventName } from '@cap/clockify';
import type { Simulator } from './simulator.js';

/**
 * The simulator commands that change the mock's data and send webhooks (`webhook`, `burst`).
 * The CLI runs them inside the running `sim serve` (POST /_sim/commands/<name>), so the store the
 * mock API serves and the webhooks the add-on receives stay one story; without a running serve
 * it runs them on a local copy rebuilt from the seed.
 */
export const COMMAND_NAMES = ['webhook', 'burst'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface WebhookCommand {
  readonly event: WebhookEventName;
  /** A body to send as it is (else a real change of the store, or a synthesized body). */
  readonly body?: string;
  readonly workspaceId?: string;
  /** Change the store for events it models; default true. */
  readonly mutate?: boolean;
}

export interface BurstCommand {
  readonly count: number;
  readonly workspaceId?: string;
  readonly events?: readonly WebhookEventName[];
  readonly rate?: number;
  readonly duplicates?: number;
  readonly reorder?: boolean | number;
  readonly concurrency?: number;
  readonly mutate?: boolean;
}

/** What a command printed and how it ended: the CLI shows `human` (or `machine` with --json). */
export interface CommandResult {
  readonly code: number;
  readonly human: string;
  readonly machine: unknown;
}

export class CommandInputError extends Error {}

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

/** Runs a command given as JSON (from the CLI or over HTTP), validating it first. */
export async function runCommand(sim: Simulator, name: string, input: unknown): Promise<CommandResult> {
  if (!isCommandName(name))
    throw new CommandInputError(`unknown command "${name}"; one of: ${COMMAND_NAMES.join(', ')}`);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new CommandInputError('the command input must be a JSON object');
  const o = input as Record<string, unknown>;
  return name === 'webhook' ? runWebhook(sim, parseWebhook(o)) : runBurst(sim, parseBurst(o));
}

export async function runWebhook(sim: Simulator, c: WebhookCommand): Promise<CommandResult> {
  const target = c.workspaceId ? { workspaceId: c.workspaceId } : {};
  const delivery =
    c.body !== undefined
      ? await sim.sendWebhook(c.event, c.body, target)
      : await sim.trigger(c.event, { ...target, mutate: c.mutate !== false });
  const machine = {
    event: c.event,
    url: delivery.url,
    status: delivery.status,
    durationMs: Math.round(delivery.durationMs),
    response: delivery.body,
    ...(delivery.error ? { error: delivery.error } : {}),
  };
  const human =
    delivery.status === 0
      ? `${c.event} → ${delivery.url}: no answer (${delivery.error ?? 'unknown error'})`
      : `${c.event} → ${delivery.url}: ${delivery.status} in ${machine.durationMs} ms ${JSON.stringify(delivery.body ?? '')}`;
  return { code: delivery.ok ? 0 : 1, human, machine };
}

export async function runBurst(sim: Simulator, c: BurstCommand): Promise<CommandResult> {
  const report = await sim.burst({
    count: c.count,
    ...(c.workspaceId ? { workspaceId: c.workspaceId } : {}),
    ...(c.events ? { events: c.events } : {}),
    ...(c.rate !== undefined ? { rate: c.rate } : {}),
    ...(c.duplicates !== undefined ? { duplicates: c.duplicates } : {}),
    ...(c.reorder !== undefined ? { reorder: c.reorder } : {}),
    ...(c.concurrency !== undefined ? { concurrency: c.concurrency } : {}),
    mutate: c.mutate !== false,
    keepDeliveries: false,
  });
  const statuses = Object.entries(report.byStatus)
    .map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${n}`)
    .join(', ');
  const human = `Sent ${report.sent} webhooks (${report.unique} distinct, ${report.duplicates} duplicates, ${report.mutations} from store changes${report.reordered ? ', reordered' : ''}) in ${report.durationMs} ms = ${report.achievedRate}/s\n  statuses: ${statuses}\n  events: ${Object.keys(report.byEvent).length} kinds`;
  const code = report.errors === 0 && Object.keys(report.byStatus).every((s) => s.startsWith('2')) ? 0 : 1;
  return { code, human, machine: report };
}

function parseWebhook(o: Record<string, unknown>): WebhookCommand {
  return {
    event: event(o.event, 'event'),
    ...(o.body !== undefined ? { body: text(o.body, 'body', 1024 * 1024) } : {}),
    ...(o.workspaceId !== undefined ? { workspaceId: text(o.workspaceId, 'workspaceId', 64) } : {}),
    ...(o.mutate !== undefined ? { mutate: bool(o.mutate, 'mutate') } : {}),
  };
}

function parseBurst(o: Record<string, unknown>): BurstCommand {
  if (o.events !== undefined && !Array.isArray(o.events)) throw new CommandInputError('events must be a list');
  const reorder = o.reorder;
  if (reorder !== undefined && typeof reorder !== 'boolean' && !isInt(reorder, 2, 10_000))
    throw new CommandInputError('reorder must be true, false or a window size from 2 to 10000');
  return {
    count: int(o.count, 'count', 1, 1_000_000),
    ...(o.workspaceId !== undefined ? { workspaceId: text(o.workspaceId, 'workspaceId', 64) } : {}),
    ...(o.events !== undefined ? { events: (o.events as unknown[]).map((e, i) => event(e, `events[${i}]`)) } : {}),
    ...(o.rate !== undefined ? { rate: num(o.rate, 'rate', 0.001, 1_000_000) } : {}),
    ...(o.duplicates !== undefined ? { duplicates: num(o.duplicates, 'duplicates', 0, 1) } : {}),
    ...(reorder !== undefined ? { reorder: reorder as boolean | number } : {}),
    ...(o.concurrency !== undefined ? { concurrency: int(o.concurrency, 'concurrency', 1, 10_000) } : {}),
    ...(o.mutate !== undefined ? { mutate: bool(o.mutate, 'mutate') } : {}),
  };
}

function event(v: unknown, name: string): WebhookEventName {
  if (typeof v !== 'string' || !isWebhookEventName(v)) throw new CommandInputError(`${name} must be a webhook event`);
  return v;
}
function text(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new CommandInputError(`${name} must be a string of 1 to ${max} characters`);
  return v;
}
function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new CommandInputError(`${name} must be true or false`);
  return v;
}
function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
function int(v: unknown, name: string, min: number, max: number): number {
  if (!isInt(v, min, max)) throw new CommandInputError(`${name} must be a whole number from ${min} to ${max}`);
  return v;
}
function num(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new CommandInputError(`${name} must be a number from ${min} to ${max}`);
  return v;
}
