import { describe, expect, it } from 'vitest';
import { AUDIT_BODY_CHARS, auditText, redactForAudit } from './api-calls.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe('audit redaction', () => {
  it('replaces secret-named fields at any depth and masks token-like strings', () => {
    expect(
      redactForAudit({
        name: 'Tag',
        webhook: { authToken: 'abc', url: 'https://x.example/hook', apiKey: 'k', clientSecret: 's' },
        list: [{ password: 'p' }, { note: `bearer ${JWT}` }],
        keepNull: { token: null },
      }),
    ).toEqual({
      name: 'Tag',
      webhook: {
        authToken: '[REDACTED]',
        url: 'https://x.example/hook',
        apiKey: '[REDACTED]',
        clientSecret: '[REDACTED]',
      },
      list: [{ password: '[REDACTED]' }, { note: 'bearer [REDACTED]' }],
      keepNull: { token: null },
    });
  });

  it('cuts long bodies to the audit size and says so', () => {
    const text = auditText({ items: 'x'.repeat(AUDIT_BODY_CHARS * 2) })!;
    expect(text.length).toBeLessThan(AUDIT_BODY_CHARS + 60);
    expect(text).toMatch(/… \[truncated, \d+ chars\]$/);
    expect(auditText(undefined)).toBeUndefined();
    expect(auditText(`token ${JWT}`)).toBe('token [REDACTED]');
  });
});
