import type { LifecycleType, ManifestSchemaVersion, WebhookEventName } from '../catalog/events.js';
import type { Scope } from '../catalog/scopes.js';

/** Shapes of the add-on manifest, following the official schemas (REFERENCE.md §1.2–1.5). */

export const SUBSCRIPTION_PLANS = ['FREE', 'BASIC', 'STANDARD', 'PRO', 'ENTERPRISE'] as const;
export type SubscriptionPlan = (typeof SUBSCRIPTION_PLANS)[number];

export const ACCESS_LEVELS = ['ADMINS', 'EVERYONE'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Component types of schema 1.6; older schemas allow fewer (lint checks the chosen version). */
export const COMPONENT_TYPES = [
  'sidebar',
  'widget',
  'timeoff.tab',
  'schedule.tab',
  'approvals.tab',
  'reports.tab',
  'activity.tab',
  'team.tab',
  'projects.tab',
  'invoices.action',
  'timeentries.action.uiblocks',
] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** An iframe component; Clockify loads `GET baseUrl+path?auth_token=<user token>`. */
export interface ComponentSpec {
  type: ComponentType;
  accessLevel: AccessLevel;
  /** Relative to `baseUrl`, starting with `/`. */
  path: string;
  label: string;
  iconPath?: string;
  /** In `vw`; widgets only. */
  width?: number;
  height?: number;
  /** Free-form, component specific. */
  options?: Readonly<Record<string, unknown>>;
}

export const SETTING_TYPES = [
  'TXT',
  'NUMBER',
  'DROPDOWN_SINGLE',
  'DROPDOWN_MULTIPLE',
  'CHECKBOX',
  'LINK',
  'USER_DROPDOWN_SINGLE',
  'USER_DROPDOWN_MULTIPLE',
] as const;
export type SettingType = (typeof SETTING_TYPES)[number];

interface SettingBase {
  id: string;
  name: string;
  accessLevel: AccessLevel;
  description?: string;
  /** Shown in the empty form field. */
  placeholder?: string;
  /** The key of a key-value setting (e.g. a page name whose value is a document URL). */
  key?: string;
  required?: boolean;
  copyable?: boolean;
  readOnly?: boolean;
}

/**
 * One structured setting. `value` must fit `type`; the schema also forbids an empty string or an
 * empty array as `value` (minLength/minItems 1), so give every setting a real default.
 */
export type Setting = SettingBase &
  (
    | { type: 'TXT' | 'LINK'; value: string }
    | { type: 'NUMBER'; value: number }
    | { type: 'CHECKBOX'; value: boolean }
    | { type: 'DROPDOWN_SINGLE'; value: string; allowedValues: readonly string[] }
    | { type: 'DROPDOWN_MULTIPLE'; value: readonly string[]; allowedValues: readonly string[] }
    /** Clockify replaces the value with the installer's user id on install. */
    | { type: 'USER_DROPDOWN_SINGLE'; value: string }
    | { type: 'USER_DROPDOWN_MULTIPLE'; value: readonly string[] }
  );

/** A blue banner shown above a tab's or group's settings. */
export interface SettingsHeader {
  title: string;
}

export interface SettingsGroup {
  id: string;
  title: string;
  description?: string;
  header?: SettingsHeader;
  /** At least one. */
  settings: readonly Setting[];
}

export interface SettingsTab {
  id: string;
  name: string;
  header?: SettingsHeader;
  groups?: readonly SettingsGroup[];
  settings?: readonly Setting[];
}

/** Settings Clockify stores and renders; a string instead is the path of a self-hosted settings page. */
export interface StructuredSettings {
  /** At least one. */
  tabs: readonly SettingsTab[];
}

export interface LifecycleEntry {
  type: LifecycleType;
  path: string;
}

export interface WebhookEntry {
  event: WebhookEventName;
  path: string;
}

/** The manifest JSON document served at `GET /manifest` and committed as manifest.json. */
export interface Manifest {
  schemaVersion: ManifestSchemaVersion;
  key: string;
  name: string;
  description?: string;
  baseUrl: string;
  minimalSubscriptionPlan: SubscriptionPlan;
  iconPath?: string;
  scopes: readonly Scope[];
  lifecycle: readonly LifecycleEntry[];
  webhooks: readonly WebhookEntry[];
  components: readonly ComponentSpec[];
  settings?: StructuredSettings | string;
}

/** What an add-on definition declares; the manifest follows from it. */
export interface ManifestInput {
  /** 2–50 characters; the JWT `sub`; cannot change once published. */
  key: string;
  /** 1–50 characters. */
  name: string;
  description?: string;
  /** Cannot change once published. */
  minimalSubscriptionPlan: SubscriptionPlan;
  iconPath?: string;
  scopes: readonly Scope[];
  components?: readonly ComponentSpec[];
  settings?: StructuredSettings | string;
  events: readonly WebhookEventName[];
}
