/**
 * Clockify's add-on endpoints that the public OpenAPI spec does not list (REFERENCE.md §3.6).
 * They live under `{backendUrl}/addon/…` (no `/v1`), take the installation token like every other
 * call, and pass the same host allow-list, limiter and retries. Only these are callable: the
 * table is the allow-list, and `ClockifyClient.addonRequest` is typed by it.
 */

/** One setting as the settings document carries it (tabs and groups hold lists of these). */
export interface AddonSettingDto {
  readonly id: string;
  readonly name?: string;
  readonly value: unknown;
  readonly type?: string;
  readonly [key: string]: unknown;
}

/** `GET /addon/workspaces/{workspaceId}/settings`: the installation's structured settings. */
export interface AddonSettingsDocument {
  readonly tabs?: ReadonlyArray<{
    readonly id?: string;
    readonly settings?: readonly AddonSettingDto[];
    readonly groups?: ReadonlyArray<{ readonly id?: string; readonly settings?: readonly AddonSettingDto[] }>;
    readonly [key: string]: unknown;
  }>;
  readonly [key: string]: unknown;
}

export interface AddonEndpoints {
  'GET /addon/workspaces/{workspaceId}/settings': {
    readonly path: Record<string, never>;
    readonly body: undefined;
    readonly response: AddonSettingsDocument;
  };
  'PATCH /addon/workspaces/{workspaceId}/settings': {
    readonly path: Record<string, never>;
    readonly body: ReadonlyArray<{ readonly id: string; readonly value: unknown }>;
    readonly response: unknown;
  };
  /** Exchanges the installation token for a user token of `userId`; the body is the token. */
  'POST /addon/user/{userId}/token': {
    readonly path: { readonly userId: string };
    readonly body: undefined;
    readonly response: string;
  };
}

export type AddonEndpoint = keyof AddonEndpoints;

export const ADDON_ENDPOINTS: readonly AddonEndpoint[] = [
  'GET /addon/workspaces/{workspaceId}/settings',
  'PATCH /addon/workspaces/{workspaceId}/settings',
  'POST /addon/user/{userId}/token',
];
