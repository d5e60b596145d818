/**
 * The start-up banner `npm start` prints for a person at a terminal (pretty logs): the URLs that
 * matter and what is embedded or missing. Plain text; JSON logs carry the same facts in the
 * ready lines instead.
 */
export function formatBanner(
  title: string,
  rows: readonly (readonly [string, string])[],
  notes: readonly string[],
): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    '',
    `  ${title}`,
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    ...(notes.length > 0 ? ['', ...notes.map((n) => `  • ${n}`)] : []),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** A Redis URL for display: the password masked; the sentinel and cluster forms as written. */
export function displayRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
  });
}
