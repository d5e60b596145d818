import {
  LIFECYCLE_PATHS,
  LIFECYCLE_TYPES,
  compareCodeUnits,
  webhookPath,
  type SupportedSchemaVersion,
} from '../catalog/events.js';
import { SCOPES, type Scope } from '../catalog/scopes.js';
import type {
  ComponentSpec,
  Manifest,
  ManifestInput,
  Setting,
  SettingsGroup,
  SettingsHeader,
  SettingsTab,
  StructuredSettings,
} from './types.js';

export interface BuildManifestOptions {
  /** The ingress's public URL (`BASE_URL`); every path is appended to it. */
  baseUrl: string;
  /** Overrides `input.key` (`ADDON_KEY`). */
  key?: string;
  /** Defaults to '1.6'. */
  schemaVersion?: SupportedSchemaVersion;
}

/**
 * Copies the listed keys of `source` in the listed order, leaving out undefined ones. The
 * committed manifest.json is compared byte for byte, so its key order must not depend on how an
 * author happened to write an object literal.
 */
function ordered<T extends object>(source: T, keys: readonly (keyof T)[]): T {
  const out: Partial<T> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out as T;
}

function header(h: SettingsHeader | undefined): SettingsHeader | undefined {
  return h && ordered(h, ['title']);
}

function setting(s: Setting): Setting {
  const keys = [
    'id',
    'name',
    'description',
    'placeholder',
    'type',
    'key',
    'value',
    'allowedValues',
    'accessLevel',
    'required',
    'copyable',
    'readOnly',
  ] as const;
  return ordered(s, keys as readonly (keyof Setting)[]);
}

function group(g: SettingsGroup): SettingsGroup {
  return ordered({ ...g, header: header(g.header), settings: g.settings.map(setting) }, [
    'id',
    'title',
    'description',
    'header',
    'settings',
  ]);
}

function tab(t: SettingsTab): SettingsTab {
  return ordered({ ...t, header: header(t.header), groups: t.groups?.map(group), settings: t.settings?.map(setting) }, [
    'id',
    'name',
    'header',
    'groups',
    'settings',
  ]);
}

function settings(s: StructuredSettings | string): StructuredSettings | string {
  return typeof s === 'string' ? s : { tabs: s.tabs.map(tab) };
}

function component(c: ComponentSpec): ComponentSpec {
  return ordered(c, ['type', 'accessLevel', 'path', 'label', 'iconPath', 'width', 'height', 'options']);
}

const scopeRank = new Map<string, number>(SCOPES.map((s, i) => [s, i]));

function byCatalogOrder(a: Scope, b: Scope): number {
  return (scopeRank.get(a) ?? SCOPES.length) - (scopeRank.get(b) ?? SCOPES.length) || compareCodeUnits(a, b);
}

/**
 * The manifest document for an add-on definition: lifecycle calls for all four types, one webhook
 * per subscribed event at `/webhooks/<event>`, events sorted by name and scopes in catalog order
 * so regenerating an unchanged definition gives an identical file. It does not check the input;
 * run lintManifestInput and validateManifest for that.
 */
export function buildManifest(input: ManifestInput, options: BuildManifestOptions): Manifest {
  const events = [...input.events].sort(compareCodeUnits);
  return ordered<Manifest>(
    {
      schemaVersion: options.schemaVersion ?? '1.6',
      key: options.key ?? input.key,
      name: input.name,
      description: input.description,
      // Clockify concatenates baseUrl and path, so a trailing slash would double up.
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      minimalSubscriptionPlan: input.minimalSubscriptionPlan,
      iconPath: input.iconPath,
      scopes: [...input.scopes].sort(byCatalogOrder),
      lifecycle: LIFECYCLE_TYPES.map((type) => ({ type, path: LIFECYCLE_PATHS[type] })),
      webhooks: events.map((event) => ({ event, path: webhookPath(event) })),
      components: (input.components ?? []).map(component),
      settings: input.settings === undefined ? undefined : settings(input.settings),
    },
    [
      'schemaVersion',
      'key',
      'name',
      'description',
      'baseUrl',
      'minimalSubscriptionPlan',
      'iconPath',
      'scopes',
      'lifecycle',
      'webhooks',
      'components',
      'settings',
    ],
  );
}
