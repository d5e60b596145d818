import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WebhookEventName } from '@cap/clockify';

export type PathStyle = 'relative' | 'full';
export type LifecycleClaims = 'with-workspace' | 'without-workspace';
export type InstallationStatus = 'ACTIVE' | 'INACTIVE' | 'DELETED';

/** The parts of an add-on manifest the simulator acts on. */
export interface ManifestInfo {
  readonly key: string;
  readonly name?: string;
  readonly baseUrl: string;
  readonly lifecycle: ReadonlyArray<{ readonly type: string; readonly path: string }>;
  readonly webhooks: ReadonlyArray<{ readonly event: string; readonly path: string }>;
  /** Structured settings (`{tabs:[…]}`) or a custom settings path. */
  readonly settings?: unknown;
}

export interface SettingValue {
  readonly id: string;
  readonly name: string;
  readonly value: unknown;
}

/**
 * One add-on installed on one workspace, as the simulator remembers it: the tokens it signed
 * (so later webhooks carry the right one) and where to deliver. Tokens are secrets of the local
 * simulator key only; the state file is created with mode 0600.
 */
export interface Installation {
  readonly addonKey: string;
  readonly addonId: string;
  readonly workspaceId: string;
  readonly asUser: string;
  readonly addonUserId: string;
  readonly apiUrl: string;
  readonly reportsUrl: string;
  /** Where lifecycle calls and webhooks are sent: the manifest `baseUrl` unless overridden. */
  readonly deliveryBaseUrl: string;
  readonly manifest: ManifestInfo;
  readonly pathStyle: PathStyle;
  readonly lifecycleClaims: LifecycleClaims;
  readonly installationToken: string;
  /** The token of each subscribed event's webhook (the INSTALLED `webhooks[].authToken`). */
  readonly webhookTokens: Readonly<Partial<Record<WebhookEventName, string>>>;
  readonly status: InstallationStatus;
  readonly settings: readonly SettingValue[];
  readonly installedAt: string;
  readonly updatedAt: string;
}

interface StateFile {
  version: 1;
  installations: Installation[];
  /** SHA-256 of every revoked token. */
  revoked: string[];
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Installations and revoked tokens. In memory by default; with a `file` the state survives the
 * process and is shared with other simulator processes (the CLI's `uninstall` revokes tokens a
 * running `serve` must then refuse): reads pick up the file again when it changed.
 */
export class InstallationRegistry {
  private installations = new Map<string, Installation>();
  private revoked = new Set<string>();
  private readonly file: string | undefined;
  /** mtime and size of the file as last read or written. */
  private loadedVersion = '';
  private lastCheck = 0;

  constructor(options: { file?: string } = {}) {
    this.file = options.file;
    this.reload(true);
  }

  get path(): string | undefined {
    return this.file;
  }

  /** The installation of an add-on on a workspace (any add-on when `addonKey` is omitted; live ones first). */
  get(workspaceId: string, addonKey?: string): Installation | undefined {
    this.reload();
    if (addonKey !== undefined) return this.installations.get(keyOf(workspaceId, addonKey));
    const all = [...this.installations.values()].filter((i) => i.workspaceId === workspaceId);
    return all.find((i) => i.status !== 'DELETED') ?? all[0];
  }

  list(): Installation[] {
    this.reload();
    return [...this.installations.values()];
  }

  put(installation: Installation): void {
    this.reload(true);
    this.installations.set(keyOf(installation.workspaceId, installation.addonKey), installation);
    this.save();
  }

  update(
    workspaceId: string,
    addonKey: string,
    patch: Partial<Pick<Installation, 'status' | 'settings'>>,
  ): Installation {
    this.reload(true);
    const current = this.installations.get(keyOf(workspaceId, addonKey));
    if (!current) throw new Error(`add-on ${addonKey} is not installed on workspace ${workspaceId}`);
    const next: Installation = { ...current, ...patch, updatedAt: new Date().toISOString() };
    this.installations.set(keyOf(workspaceId, addonKey), next);
    this.save();
    return next;
  }

  /** Revokes tokens (by value); the mock API answers 401 to them from now on. */
  revoke(tokens: readonly string[]): void {
    this.reload(true);
    for (const t of tokens) this.revoked.add(tokenHash(t));
    this.save();
  }

  isRevoked(token: string): boolean {
    this.reload();
    return this.revoked.size > 0 && this.revoked.has(tokenHash(token));
  }

  /** Re-reads the file when it changed (checked at most every 100 ms unless forced). */
  private reload(force = false): void {
    if (!this.file) return;
    const now = Date.now();
    if (!force && now - this.lastCheck < 100) return;
    this.lastCheck = now;
    let version: string;
    try {
      version = fileVersion(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (version === this.loadedVersion) return;
    let parsed: StateFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as StateFile;
    } catch {
      throw new Error(`${this.file} is not valid simulator state; delete it to start over`);
    }
    this.installations = new Map((parsed.installations ?? []).map((i) => [keyOf(i.workspaceId, i.addonKey), i]));
    this.revoked = new Set(parsed.revoked ?? []);
    this.loadedVersion = version;
  }

  private save(): void {
    if (!this.file) return;
    const state: StateFile = {
      version: 1,
      installations: [...this.installations.values()],
      revoked: [...this.revoked],
    };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
    this.loadedVersion = fileVersion(this.file);
  }
}

function fileVersion(path: string): string {
  const st = statSync(path);
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}

function keyOf(workspaceId: string, addonKey: string): string {
  return `${workspaceId}\u0000${addonKey}`;
}
