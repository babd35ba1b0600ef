/**
 * Calendar dates in the configured time zone, as 'YYYY-MM-DD' strings (never JS Dates, which carry a
 * time and a zone). Daily metrics, daily ranking keys and aggregation periods all use these.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function dateInZone(instant: Date | string | number, timeZone: string): string {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    // en-CA formats as YYYY-MM-DD.
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, fmt);
  }
  return fmt.format(new Date(instant));
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
  return parseDate(date).replaceAll('-', '');
}
