import type { Setting, SettingType, StructuredSettings } from './types.js';

/** One setting as Clockify reports it (SETTINGS_UPDATED, or the add-on settings endpoint). */
export interface SettingValue {
  readonly id: string;
  readonly name?: string;
  readonly value: unknown;
}

const NONE: ReadonlyMap<string, Setting> = new Map();
/** Read once per settings document: every webhook delivery's handler context asks again. */
const declaredCache = new WeakMap<StructuredSettings, ReadonlyMap<string, Setting>>();

/** Every setting a structured settings document declares, by id (tabs and their groups). */
export function declaredSettings(settings: StructuredSettings | string | undefined): ReadonlyMap<string, Setting> {
  if (settings === undefined || typeof settings === 'string') return NONE;
  const cached = declaredCache.get(settings);
  if (cached) return cached;
  const byId = new Map<string, Setting>();
  for (const tab of settings.tabs) {
    for (const s of tab.settings ?? []) byId.set(s.id, s);
    for (const group of tab.groups ?? []) for (const s of group.settings) byId.set(s.id, s);
  }
  declaredCache.set(settings, byId);
  return byId;
}

/**
 * The flat `{id, name, value}` list of a settings document as Clockify's add-on settings endpoint
 * returns it (`{tabs: [{settings, groups: [{settings}]}]}`, REFERENCE.md §3.6). Entries without a
 * string id are left out; anything that is not such a document gives an empty list.
 */
export function flattenSettingsDocument(document: unknown): SettingValue[] {
  const out: SettingValue[] = [];
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const s of list) {
      if (s === null || typeof s !== 'object') continue;
      const { id, name, value } = s as { id?: unknown; name?: unknown; value?: unknown };
      if (typeof id !== 'string' || id === '') continue;
      out.push({ id, ...(typeof name === 'string' ? { name } : {}), value: value ?? null });
    }
  };
  const tabs = (document as { tabs?: unknown } | null)?.tabs;
  if (!Array.isArray(tabs)) return out;
  for (const tab of tabs) {
    if (tab === null || typeof tab !== 'object') continue;
    take((tab as { settings?: unknown }).settings);
    const groups = (tab as { groups?: unknown }).groups;
    if (Array.isArray(groups)) for (const g of groups) if (g && typeof g === 'object') take(g.settings);
  }
  return out;
}

/**
 * A setting's value read by its declared type. Clockify stores what its settings form sends,
 * which is not always the type the manifest declared: a CHECKBOX may come back as the string
 * "false" (which is truthy in JavaScript), a NUMBER as "12". Undefined when the value cannot be
 * read as that type, so a caller falls back to the default instead of acting on garbage.
 */
export function parseSettingValue(type: SettingType, value: unknown): unknown {
  switch (type) {
    case 'CHECKBOX': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
        return value.trim().toLowerCase() === 'true';
      return undefined;
    }
    case 'NUMBER': {
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
      return undefined;
    }
    case 'DROPDOWN_MULTIPLE':
    case 'USER_DROPDOWN_MULTIPLE': {
      if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? value : undefined;
      return typeof value === 'string' && value !== '' ? [value] : undefined;
    }
    default:
      if (typeof value === 'string') return value;
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  }
}
