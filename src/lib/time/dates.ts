/**
 * Calendar dates in the configured time zone, as 'YYYY-MM-DD' strings (never JS Dates, which carry a
 * time and a zone). Daily metrics, daily ranking keys and aggregation periods all use these.
 */
const formatters = new Map<string, { fmt: Intl.DateTimeFormat; bySecond: Map<number, string> }>();

/**
 * Memoised per second: formatting is the costly part of the collector's per-event folding, and events
 * arrive many per second. Exact, as zone offsets are whole seconds, so a second never spans two dates.
 */
export function dateInZone(instant: Date | string | number, timeZone: string): string {
  let zone = formatters.get(timeZone);
  if (!zone) {
    // en-CA formats as YYYY-MM-DD.
    const fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, (zone = { fmt, bySecond: new Map() }));
  }
  const date = new Date(instant);
  const second = Math.floor(date.getTime() / 1000);
  let text = zone.bySecond.get(second);
  if (text === undefined) {
    text = zone.fmt.format(date); // throws on an invalid date, before anything is cached
    if (zone.bySecond.size >= 10_000) zone.bySecond.clear();
    zone.bySecond.set(second, text);
  }
  return text;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses and checks a 'YYYY-MM-DD' string (a real calendar date); throws on anything else. */
export function parseDate(text: string): string {
  const m = DATE.exec(text);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.toISOString().slice(0, 10) === text) return text;
  }
  throw new Error(`"${text}" is not a date; expected YYYY-MM-DD`);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${parseDate(date)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** 'YYYY-MM-DD' -> 'YYYYMMDD', the form used in Redis ranking keys. */
export function compactDate(date: string): string {
  let compact = compacted.get(date);
  if (compact === undefined) {
    compact = parseDate(date).replaceAll('-', '');
    if (compacted.size >= 1_000) compacted.clear();
    compacted.set(date, compact);
  }
  return compact;
}

// compactDate runs once per event for the ranking key; a batch has only a few distinct days.
const compacted = new Map<string, string>();
