import { describe, expect, it } from 'vitest';
import { handlerFor, manifestInputOf, type RegisteredAddon } from '@cap/addon';
import type { WebhookEventName } from '@cap/clockify';
import { addon } from './addon.js';

describe('the example add-on', () => {
  it('is a RegisteredAddon with one handler per subscribed event, and nothing else', () => {
    const registered: RegisteredAddon = addon;
    expect(Object.keys(registered.handlers).sort()).toEqual([...registered.events].sort());
    for (const event of registered.events) expect(handlerFor(registered, event)).toBeTypeOf('function');
    expect(handlerFor(registered, 'NEW_INVOICE' satisfies WebhookEventName)).toBeUndefined();
    expect(handlerFor(registered, 'toString')).toBeUndefined();
  });

  it('gives the manifest its metadata, scopes, settings and events', () => {
    const input = manifestInputOf(addon);
    expect(input).toMatchObject({ key: 'workspace-mirror', minimalSubscriptionPlan: 'FREE' });
    expect(input.events).toEqual(addon.events);
    expect(input.scopes).toEqual(addon.scopes);
    expect(input.settings).toEqual(addon.settings);
    expect(input).not.toHaveProperty('handlers');
    expect(input).not.toHaveProperty('bootstrap');
  });
});
