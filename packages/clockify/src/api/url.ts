/**
 * URL building. Clockify's base URLs (`apiUrl`, token `backendUrl`/`reportsUrl`) come without
 * `/v1` and every spec path starts with `/v1`, so joining is plain concatenation once slashes
 * are normalised. The predecessor produced `/api/v1/v1/...`; a base that already ends in `/v1`
 * is therefore cut back rather than trusted.
 */

/** Validates a base URL and returns it without trailing slashes or a trailing `/v1`. */
export function normalizeBaseUrl(raw: string, name = 'baseUrl'): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new TypeError(`${name} is not a valid absolute URL`);
  }
  if (url.search !== '' || url.hash !== '') throw new TypeError(`${name} must not carry a query or fragment`);
  let path = url.pathname.replace(/\/+$/, '');
  path = path.replace(/\/v1$/i, '');
  return `${url.origin}${path}`;
}

/** `base + path`, with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/**
 * Substitutes `{name}` segments. Values are percent-encoded, and `.`/`..` are refused because
 * the URL parser would resolve them and send the request to another resource.
 */
export function fillPath(template: string, params: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new TypeError(`path parameter ${name} is missing for ${template}`);
    }
    const text = String(value);
    if (text === '' || text === '.' || text === '..') {
      throw new TypeError(`path parameter ${name} has an unusable value for ${template}`);
    }
    return encodeURIComponent(text);
  });
}

/**
 * Query string in the spec's default style (form, exploded): arrays repeat the key; undefined
 * and null are left out. Nested objects have no agreed encoding in this API, so they are refused
 * instead of being sent as `[object Object]`.
 */
export function buildQuery(query: Readonly<Record<string, unknown>> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item === undefined || item === null) continue;
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        search.append(key, String(item));
      } else {
        throw new TypeError(`query parameter ${key} must be a string, number, boolean or an array of them`);
      }
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
