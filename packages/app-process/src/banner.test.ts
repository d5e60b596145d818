import { describe, expect, it } from 'vitest';
import { displayRedisUrl, formatBanner } from './banner.js';

describe('start-up banner', () => {
  it('aligns the rows under a title and lists the notes', () => {
    const text = formatBanner(
      'workspace-mirror',
      [
        ['Manifest', 'http://localhost:8080/manifest'],
        ['Bull Board', 'http://localhost:8080/admin/queues'],
      ],
      ['set BASE_URL'],
    );
    expect(text).toContain('  Manifest    http://localhost:8080/manifest\n');
    expect(text).toContain('  Bull Board  http://localhost:8080/admin/queues\n');
    expect(text).toContain('  • set BASE_URL\n');
  });

  it('never shows a Redis password', () => {
    expect(displayRedisUrl('redis://:s3cret-pass@redis:6379/0')).toBe('redis://:***@redis:6379/0');
    expect(displayRedisUrl('rediss://app:s3cret@redis:6380')).toBe('rediss://app:***@redis:6380');
    expect(displayRedisUrl('redis+sentinel://u:pw@h1:26379,h2:26379/mymaster')).toBe(
      'redis+sentinel://u:***@h1:26379,h2:26379/mymaster',
    );
    expect(displayRedisUrl('redis://tokenonly@h:6379')).toBe('redis://***@h:6379');
    expect(displayRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
