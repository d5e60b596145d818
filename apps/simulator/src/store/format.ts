/** Clockify writes instants without milliseconds: `2024-05-01T09:30:00Z`. */
export function isoInstant(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** ISO-8601 duration the way Clockify writes it: `PT1H30M`, `PT45M10S`, `PT0S`. */
export function isoDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s === 0) return 'PT0S';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${sec ? `${sec}S` : ''}`;
}

/** Seconds of an ISO-8601 duration made of hours, minutes and seconds (what Clockify uses). */
export function parseIsoDuration(duration: string | null | undefined): number {
  if (!duration) return 0;
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(duration);
  if (!m) return 0;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Parses an instant a client sent (`yyyy-MM-ddThh:mm:ssZ`, with or without millis); NaN when invalid. */
export function parseInstant(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return Number.NaN;
  return Date.parse(value);
}
