import { isWebhookEventName } from '@cap/clockify';
import type { ManifestInfo, SettingValue } from './installations.js';

/**
 * Reads what the simulator needs from an add-on manifest and refuses manifests Clockify would
 * refuse for these parts (no key, no http(s) baseUrl, malformed lifecycle or webhook entries).
 * Full schema validation is the add-on's own check; this keeps the simulator honest about inputs.
 */
export function parseManifest(doc: unknown): ManifestInfo {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error('the manifest is not a JSON object');
  const m = doc as Record<string, unknown>;
  if (typeof m.key !== 'string' || m.key.length < 2 || m.key.length > 50)
    throw new Error('the manifest needs a "key" of 2–50 characters');
  if (typeof m.baseUrl !== 'string' || !/^https?:\/\//.test(m.baseUrl))
    throw new Error('the manifest needs an http(s) "baseUrl"');
  const lifecycle = arrayOf(m.lifecycle, 'lifecycle').map((e, i) => {
    if (typeof e.type !== 'string' || typeof e.path !== 'string' || e.path.length === 0)
      throw new Error(`lifecycle[${i}] needs "type" and "path"`);
    return { type: e.type, path: e.path };
  });
  const webhooks = arrayOf(m.webhooks, 'webhooks').map((e, i) => {
    if (typeof e.event !== 'string' || typeof e.path !== 'string' || e.path.length === 0)
      throw new Error(`webhooks[${i}] needs "event" and "path"`);
    if (!isWebhookEventName(e.event))
      throw new Error(`webhooks[${i}].event "${e.event}" is not a Clockify webhook event`);
    return { event: e.event, path: e.path };
  });
  return {
    key: m.key,
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    baseUrl: m.baseUrl,
    lifecycle,
    webhooks,
    ...(m.settings !== undefined ? { settings: m.settings } : {}),
  };
}

function arrayOf(value: unknown, field: string): Array<Record<string, unknown>> {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null))
    throw new Error(`the manifest's "${field}" must be an array of objects`);
  return value as Array<Record<string, unknown>>;
}

/** `baseUrl` + `path` without doubling or dropping the slash between them. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The structured settings' current values, flattened the way SETTINGS_UPDATED carries them. */
export function flattenSettings(settings: unknown): SettingValue[] {
  if (typeof settings !== 'object' || settings === null) return [];
  const out: SettingValue[] = [];
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const s of list as Array<Record<string, unknown>>) {
      if (typeof s?.id === 'string')
        out.push({ id: s.id, name: typeof s.name === 'string' ? s.name : s.id, value: s.value ?? null });
    }
  };
  for (const tab of ((settings as { tabs?: unknown }).tabs as Array<Record<string, unknown>> | undefined) ?? []) {
    take(tab.settings);
    for (const group of (tab.groups as Array<Record<string, unknown>> | undefined) ?? []) take(group.settings);
  }
  return out;
}

/** The structured settings with current values filled in (what `GET …/addon/…/settings` returns). */
export function renderSettings(settings: unknown, values: readonly SettingValue[]): unknown {
  if (typeof settings !== 'object' || settings === null) return { tabs: [] };
  const byId = new Map(values.map((v) => [v.id, v.value]));
  const fill = (list: unknown) =>
    Array.isArray(list)
      ? list.map((s: Record<string, unknown>) =>
          typeof s?.id === 'string' && byId.has(s.id) ? { ...s, value: byId.get(s.id) } : s,
        )
      : list;
  const copy = structuredClone(settings) as { tabs?: Array<Record<string, unknown>> };
  for (const tab of copy.tabs ?? []) {
    tab.settings = fill(tab.settings);
    for (const group of (tab.groups as Array<Record<string, unknown>> | undefined) ?? [])
      group.settings = fill(group.settings);
  }
  return copy;
}
