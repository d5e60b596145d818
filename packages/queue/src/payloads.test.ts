import { describe, expect, it } from 'vitest';
import { JOBS, type JobName } from './names.js';
import {
  InvalidPayloadError,
  JOB_PAYLOADS,
  LIFECYCLE_JOB,
  lifecyclePayload,
  lifecycleTypes,
  parsePayload,
  type JobPayload,
} from './payloads.js';

const HASH = 'a3'.repeat(32);
const OTHER_HASH = '0123456789abcdef'.repeat(4);
const RECEIVED_AT = 1_764_320_400_000;
const RUN_ID = '6f1c2d1e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';

const lifecycleBase = {
  v: 1,
  workspaceId: 'ws-1',
  addonId: 'addon-1',
  seq: 7,
  receivedAt: RECEIVED_AT,
  verified: true,
  requestId: 'req-1',
} as const;

/** One valid payload per job, as the ingress and the schedulers build them. */
const VALID: { [N in JobName]: JobPayload<N> } = {
  'lifecycle.installed': {
    ...lifecycleBase,
    type: 'INSTALLED',
    body: {
      addonId: 'addon-1',
      workspaceId: 'ws-1',
      asUser: 'user-1',
      apiUrl: 'https://api.clockify.me/api',
      addonUserId: 'addon-user-1',
      authTokenEnc: 'enc:v1:k1:bm9uY2U:Y2lwaGVy:dGFn',
      webhooks: [
        {
          path: 'https://addon.example.com/webhooks/new-time-entry',
          webhookType: 'ADDON',
          event: 'NEW_TIME_ENTRY',
          authTokenEnc: 'enc:v1:k1:bm9uY2U:d2ViaG9vaw:dGFn',
          tokenHash: HASH,
        },
        { path: '/webhooks/unmatched', authTokenEnc: 'enc:v1:k1:eA:eQ:dA', tokenHash: OTHER_HASH },
      ],
      backendUrl: 'https://api.clockify.me/api',
      reportsUrl: 'https://reports.api.clockify.me',
    },
  },
  'lifecycle.deleted': {
    ...lifecycleBase,
    type: 'DELETED',
    body: { addonId: 'addon-1', workspaceId: 'ws-1', asUser: 'user-1' },
  },
  'lifecycle.settings-updated': {
    ...lifecycleBase,
    type: 'SETTINGS_UPDATED',
    body: {
      addonId: 'addon-1',
      workspaceId: 'ws-1',
      settings: [
        { id: 'threshold', name: 'Threshold', value: 8 },
        { id: 'enabled', value: true },
      ],
    },
  },
  'lifecycle.status-changed': {
    ...lifecycleBase,
    type: 'STATUS_CHANGED',
    body: { addonId: 'addon-1', workspaceId: 'ws-1', status: 'INACTIVE' },
  },
  'lifecycle.load-settings': { v: 1, workspaceId: 'ws-1', addonId: 'addon-1', seq: 7 },
  'webhook.process': {
    v: 1,
    event: 'NEW_TIME_ENTRY',
    workspaceId: 'ws-1',
    addonId: 'addon-1',
    deliveryKey: HASH,
    windowStart: 0,
    windowSeconds: 600,
    receivedAt: RECEIVED_AT,
    tokenHash: OTHER_HASH,
    verified: true,
    body: '{"id":"te-1"}',
    requestId: 'req-2',
  },
  'bootstrap.start': { v: 1, workspaceId: 'ws-1', addonId: 'addon-1', trigger: 'install' },
  'bootstrap.resource': { v: 1, runId: RUN_ID, workspaceId: 'ws-1', addonId: 'addon-1', resource: 'projects' },
  'maintenance.retention': { v: 1 },
  'maintenance.webhook-health': { v: 1 },
  'maintenance.dead-letter-sweep': { v: 1 },
  'maintenance.reconcile': { v: 1 },
  'maintenance.purge-installation': { v: 1, workspaceId: 'ws-1', addonId: 'addon-1', seq: 8 },
};

type Mutable = Record<string, unknown>;

/** A deep copy of the valid payload of `job`, changed by `change`. */
function variant(job: JobName, change: (p: Mutable) => void): unknown {
  const copy = structuredClone(VALID[job]) as unknown as Mutable;
  change(copy);
  return copy;
}

const body = (p: Mutable) => p.body as Mutable;
const firstWebhook = (p: Mutable) => (body(p).webhooks as Mutable[])[0]!;

/** Paths of the issues zod reports, as `a.b.0.c`. */
function issuePaths(job: JobName, data: unknown): string[] {
  const result = JOB_PAYLOADS[job].safeParse(data);
  expect(result.success, `${job} should reject ${JSON.stringify(data)}`).toBe(false);
  return result.error!.issues.map((i) => i.path.join('.'));
}

describe('valid payloads', () => {
  it.each(Object.keys(VALID) as JobName[])('%s parses and keeps every field', (job) => {
    expect(JOB_PAYLOADS[job].parse(VALID[job])).toStrictEqual(VALID[job]);
    expect(parsePayload(job, VALID[job])).toStrictEqual(VALID[job]);
  });

  it('optional fields may be left out (jobs written before they existed still parse)', () => {
    const minimal: Array<[JobName, unknown]> = [
      [
        'lifecycle.installed',
        variant('lifecycle.installed', (p) => {
          delete p.requestId;
          p.body = { addonId: p.addonId, workspaceId: p.workspaceId, authTokenEnc: 'enc:v1:k:i:c:t', webhooks: [] };
        }),
      ],
      ['lifecycle.deleted', variant('lifecycle.deleted', (p) => delete body(p).asUser)],
      ['lifecycle.settings-updated', variant('lifecycle.settings-updated', (p) => (body(p).settings = []))],
      [
        'webhook.process',
        variant('webhook.process', (p) => {
          delete p.addonId;
          delete p.requestId;
        }),
      ],
      [
        'lifecycle.installed',
        variant('lifecycle.installed', (p) => {
          const w = firstWebhook(p);
          delete w.event;
          delete w.webhookType;
        }),
      ],
    ];
    for (const [job, data] of minimal) expect(JOB_PAYLOADS[job].safeParse(data).success, job).toBe(true);
  });

  it('every bootstrap trigger and status value is accepted', () => {
    for (const trigger of ['install', 'manual', 'reconcile'])
      expect(parsePayload('bootstrap.start', { ...VALID['bootstrap.start'], trigger }).trigger).toBe(trigger);
    for (const status of ['ACTIVE', 'INACTIVE'])
      expect(
        parsePayload(
          'lifecycle.status-changed',
          variant('lifecycle.status-changed', (p) => (body(p).status = status)),
        ).body.status,
      ).toBe(status);
  });

  it('lifecycle bodies keep unknown fields (loose); top-level unknown fields are dropped', () => {
    const parsed = parsePayload(
      'lifecycle.deleted',
      variant('lifecycle.deleted', (p) => {
        body(p).extra = 'kept';
        p.unknownTopLevel = 'dropped';
      }),
    );
    expect((parsed.body as Mutable).extra).toBe('kept');
    expect(parsed).not.toHaveProperty('unknownTopLevel');
    expect(parsePayload('webhook.process', { ...VALID['webhook.process'], extra: 1 })).not.toHaveProperty('extra');
    expect(parsePayload('maintenance.retention', { v: 1, cutoffDays: 30 })).toStrictEqual({ v: 1, cutoffDays: 30 });
  });
});

describe('invalid payloads are rejected with the offending path', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: Array<[JobName, string, (p: Mutable) => void, string]> = [
    // Versions: only v1 exists.
    ['lifecycle.installed', 'unknown version', (p) => (p.v = 2), 'v'],
    ['lifecycle.deleted', 'missing version', (p) => delete p.v, 'v'],
    ['webhook.process', 'unknown version', (p) => (p.v = 2), 'v'],
    ['bootstrap.start', 'version as a string', (p) => (p.v = '1'), 'v'],
    ['bootstrap.resource', 'unknown version', (p) => (p.v = 0), 'v'],
    ['maintenance.retention', 'unknown version', (p) => (p.v = 2), 'v'],
    ['maintenance.reconcile', 'missing version', (p) => delete p.v, 'v'],
    ['maintenance.purge-installation', 'unknown version', (p) => (p.v = 2), 'v'],
    // Ids.
    ['lifecycle.installed', 'missing workspaceId', (p) => delete p.workspaceId, 'workspaceId'],
    ['lifecycle.status-changed', 'empty workspaceId', (p) => (p.workspaceId = ''), 'workspaceId'],
    ['lifecycle.settings-updated', 'oversize workspaceId', (p) => (p.workspaceId = long(129)), 'workspaceId'],
    ['lifecycle.deleted', 'missing addonId', (p) => delete p.addonId, 'addonId'],
    ['lifecycle.installed', 'missing body.workspaceId', (p) => delete body(p).workspaceId, 'body.workspaceId'],
    ['lifecycle.deleted', 'oversize body.addonId', (p) => (body(p).addonId = long(129)), 'body.addonId'],
    ['webhook.process', 'missing workspaceId', (p) => delete p.workspaceId, 'workspaceId'],
    ['webhook.process', 'oversize addonId', (p) => (p.addonId = long(129)), 'addonId'],
    ['bootstrap.start', 'missing workspaceId', (p) => delete p.workspaceId, 'workspaceId'],
    ['bootstrap.resource', 'missing addonId', (p) => delete p.addonId, 'addonId'],
    ['maintenance.purge-installation', 'missing workspaceId', (p) => delete p.workspaceId, 'workspaceId'],
    // Lifecycle envelope.
    ['lifecycle.installed', 'zero seq', (p) => (p.seq = 0), 'seq'],
    ['lifecycle.deleted', 'fractional seq', (p) => (p.seq = 1.5), 'seq'],
    ['lifecycle.status-changed', 'negative receivedAt', (p) => (p.receivedAt = -1), 'receivedAt'],
    ['lifecycle.installed', 'missing verified', (p) => delete p.verified, 'verified'],
    ['lifecycle.deleted', 'oversize requestId', (p) => (p.requestId = long(129)), 'requestId'],
    ['lifecycle.installed', 'type of another job', (p) => (p.type = 'DELETED'), 'type'],
    ['lifecycle.deleted', 'oversize asUser', (p) => (body(p).asUser = long(129)), 'body.asUser'],
    // Tokens: only ciphertexts, never a token in the clear.
    [
      'lifecycle.installed',
      'plaintext authTokenEnc',
      (p) => (body(p).authTokenEnc = 'eyJhbGciOi.x.y'),
      'body.authTokenEnc',
    ],
    ['lifecycle.installed', 'missing authTokenEnc', (p) => delete body(p).authTokenEnc, 'body.authTokenEnc'],
    [
      'lifecycle.installed',
      'a plaintext authToken beside it',
      (p) => (body(p).authToken = 'eyJ.x.y'),
      'body.authToken',
    ],
    ['lifecycle.deleted', 'a plaintext authToken', (p) => (body(p).authToken = 'eyJ.x.y'), 'body.authToken'],
    ['lifecycle.status-changed', 'a plaintext authToken', (p) => (body(p).authToken = 'eyJ.x.y'), 'body.authToken'],
    ['lifecycle.settings-updated', 'a plaintext authToken', (p) => (body(p).authToken = 'eyJ.x.y'), 'body.authToken'],
    [
      'lifecycle.settings-updated',
      'more than 500 settings',
      (p) => (body(p).settings = Array.from({ length: 501 }, (_, i) => ({ id: `s${i}`, value: i }))),
      'body.settings',
    ],
    ['lifecycle.installed', 'a body about another workspace', (p) => (body(p).workspaceId = 'ws-other'), 'body'],
    ['lifecycle.status-changed', 'a body about another installation', (p) => (body(p).addonId = 'other'), 'body'],
    ['lifecycle.installed', 'a bare ciphertext prefix', (p) => (body(p).authTokenEnc = 'enc:v1:'), 'body.authTokenEnc'],
    [
      'lifecycle.installed',
      'a ciphertext with a part missing',
      (p) => (body(p).authTokenEnc = 'enc:v1:k1:aXY:Ym9keQ'),
      'body.authTokenEnc',
    ],
    [
      'lifecycle.installed',
      'wrong ciphertext version',
      (p) => (body(p).authTokenEnc = 'enc:v2:abc'),
      'body.authTokenEnc',
    ],
    [
      'lifecycle.installed',
      'plaintext webhook token',
      (p) => (firstWebhook(p).authTokenEnc = 'eyJhbGciOi.x.y'),
      'body.webhooks.0.authTokenEnc',
    ],
    [
      'lifecycle.installed',
      'webhook tokenHash not a sha-256 hex',
      (p) => (firstWebhook(p).tokenHash = HASH.toUpperCase()),
      'body.webhooks.0.tokenHash',
    ],
    [
      'lifecycle.installed',
      'short webhook tokenHash',
      (p) => (firstWebhook(p).tokenHash = HASH.slice(1)),
      'body.webhooks.0.tokenHash',
    ],
    [
      'lifecycle.installed',
      'oversize webhook path',
      (p) => (firstWebhook(p).path = long(2049)),
      'body.webhooks.0.path',
    ],
    [
      'lifecycle.installed',
      'oversize webhookType',
      (p) => (firstWebhook(p).webhookType = long(65)),
      'body.webhooks.0.webhookType',
    ],
    [
      'lifecycle.installed',
      'lowercase webhook event',
      (p) => (firstWebhook(p).event = 'new_time_entry'),
      'body.webhooks.0.event',
    ],
    [
      'lifecycle.installed',
      'more than 100 webhooks',
      (p) => (body(p).webhooks = Array.from({ length: 101 }, () => firstWebhook(p))),
      'body.webhooks',
    ],
    ['lifecycle.installed', 'apiUrl not a URL', (p) => (body(p).apiUrl = 'not a url'), 'body.apiUrl'],
    ['lifecycle.installed', 'backendUrl not a URL', (p) => (body(p).backendUrl = 'api.clockify.me'), 'body.backendUrl'],
    ['lifecycle.installed', 'oversize addonUserId', (p) => (body(p).addonUserId = long(129)), 'body.addonUserId'],
    ['lifecycle.settings-updated', 'settings not an array', (p) => (body(p).settings = {}), 'body.settings'],
    [
      'lifecycle.settings-updated',
      'setting without id',
      (p) => delete (body(p).settings as Mutable[])[1]!.id,
      'body.settings.1.id',
    ],
    ['lifecycle.status-changed', 'unknown status', (p) => (body(p).status = 'PAUSED'), 'body.status'],
    // Webhook deliveries.
    ['webhook.process', 'lowercase event', (p) => (p.event = 'new_time_entry'), 'event'],
    ['webhook.process', 'event too short', (p) => (p.event = 'AB'), 'event'],
    ['webhook.process', 'event too long', (p) => (p.event = 'A'.repeat(65)), 'event'],
    ['webhook.process', 'deliveryKey not a sha-256 hex', (p) => (p.deliveryKey = 'z'.repeat(64)), 'deliveryKey'],
    ['webhook.process', 'plaintext token instead of tokenHash', (p) => (p.tokenHash = 'eyJhbGciOi.x.y'), 'tokenHash'],
    ['webhook.process', 'negative windowStart', (p) => (p.windowStart = -1), 'windowStart'],
    ['webhook.process', 'zero windowSeconds', (p) => (p.windowSeconds = 0), 'windowSeconds'],
    ['webhook.process', 'fractional receivedAt', (p) => (p.receivedAt = 1.5), 'receivedAt'],
    ['webhook.process', 'body as an object', (p) => (p.body = { id: 'te-1' }), 'body'],
    ['webhook.process', 'missing verified', (p) => delete p.verified, 'verified'],
    ['webhook.process', 'oversize requestId', (p) => (p.requestId = long(129)), 'requestId'],
    // Bootstrap.
    ['bootstrap.start', 'unknown trigger', (p) => (p.trigger = 'cron'), 'trigger'],
    ['bootstrap.resource', 'runId not a UUID', (p) => (p.runId = 'run-1'), 'runId'],
    ['bootstrap.resource', 'empty resource', (p) => (p.resource = ''), 'resource'],
    ['bootstrap.resource', 'oversize resource', (p) => (p.resource = long(65)), 'resource'],
    // Purge.
    ['maintenance.purge-installation', 'missing seq', (p) => delete p.seq, 'seq'],
    ['maintenance.purge-installation', 'zero seq', (p) => (p.seq = 0), 'seq'],
  ];

  it.each(cases)('%s: %s -> %s', (job, _what, change, path) => {
    const data = variant(job, change);
    expect(issuePaths(job, data)).toContain(path);
    expect(() => parsePayload(job, data)).toThrow(`${path}: `);
  });

  it('ids accept exactly 1 to 128 characters', () => {
    const at = (workspaceId: string) => ({ ...VALID['bootstrap.start'], workspaceId });
    expect(parsePayload('bootstrap.start', at('x')).workspaceId).toBe('x');
    expect(parsePayload('bootstrap.start', at('x'.repeat(128))).workspaceId).toHaveLength(128);
    expect(() => parsePayload('bootstrap.start', at('x'.repeat(129)))).toThrow(InvalidPayloadError);
  });

  it('each lifecycle job accepts only its own type', () => {
    for (const type of lifecycleTypes) {
      const job = LIFECYCLE_JOB[type];
      expect(parsePayload(job, VALID[job])).toMatchObject({ type });
      for (const other of lifecycleTypes.filter((t) => t !== type)) {
        expect(issuePaths(job, { ...VALID[job], type: other })).toContain('type');
      }
    }
  });

  it('the lifecycle union dispatches on type and rejects an unknown one', () => {
    for (const type of lifecycleTypes) expect(lifecyclePayload.parse(VALID[LIFECYCLE_JOB[type]]).type).toBe(type);
    const result = lifecyclePayload.safeParse({ ...VALID['lifecycle.deleted'], type: 'UNINSTALLED' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('type');
  });
});

describe('parsePayload errors', () => {
  it('throws an InvalidPayloadError naming the job, the path and the reason', () => {
    const data = variant('lifecycle.installed', (p) => (body(p).authTokenEnc = 'plain-token'));
    let caught: unknown;
    try {
      parsePayload(JOBS.lifecycleInstalled, data);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidPayloadError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as InvalidPayloadError;
    expect(err.name).toBe('InvalidPayloadError');
    expect(err.message).toBe('invalid lifecycle.installed payload: body.authTokenEnc: must be an encrypted token');
    // The message never echoes the rejected value.
    expect(err.message).not.toContain('plain-token');
  });

  it('joins several issues with "; " and reports a bad root as (root)', () => {
    expect(() => parsePayload('bootstrap.start', { v: 1, addonId: 'a', trigger: 'cron' })).toThrow(
      /^invalid bootstrap\.start payload: workspaceId: [^;]+; trigger: [^;]+$/,
    );
    expect(() => parsePayload('maintenance.retention', null)).toThrow(
      new InvalidPayloadError(
        'invalid maintenance.retention payload: (root): Invalid input: expected object, received null',
      ),
    );
    expect(() => parsePayload('webhook.process', 'a string')).toThrow(/^invalid webhook\.process payload: \(root\): /);
  });

  it('lists at most five issues', () => {
    let message = '';
    try {
      parsePayload('webhook.process', {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(JOB_PAYLOADS['webhook.process'].safeParse({}).error!.issues.length).toBeGreaterThan(5);
    expect(message.replace(/^invalid webhook\.process payload: /, '').split('; ')).toHaveLength(5);
  });
});
