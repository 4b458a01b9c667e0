/**
 * Local time of a site: its calendar day, wall-clock minute and the start of its day, in its IANA
 * time zone, from epoch-ms event time (`wfm-agg report`'s days, the web UI's "today"). Pure: the
 * zone rules are the runtime's (ICU), no wall clock.
 */

const dayFormats = new Map<string, Intl.DateTimeFormat>();
const timeFormats = new Map<string, Intl.DateTimeFormat>();

function cachedFormat(
  cache: Map<string, Intl.DateTimeFormat>,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  let format = cache.get(timeZone);
  if (format === undefined) {
    // Formatters are costly to build and a report formats thousands of timestamps in few zones.
    format = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
    cache.set(timeZone, format);
  }
  return format;
}

/** Wall-clock fields of `ts` in `timeZone`. @throws RangeError for an unknown time zone */
function wallClock(
  ts: number,
  timeZone: string,
): Record<'year' | 'month' | 'day' | 'hour' | 'minute', number> {
  const format = cachedFormat(timeFormats, timeZone, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    // h23: midnight is 00, not the 24 some engines give with hour12: false.
    hourCycle: 'h23',
  });
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const part of format.formatToParts(ts)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  return fields;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The calendar day (`YYYY-MM-DD`) of `ts` in `timeZone`. @throws RangeError for an unknown time zone */
export function localDay(ts: number, timeZone: string): string {
  const format = cachedFormat(dayFormats, timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' });
  const get = (type: string) => format.formatToParts(ts).find((p) => p.type === type)?.value ?? '';
  return `${get('year').padStart(4, '0')}-${get('month')}-${get('day')}`;
}

/**
 * `ts` as ISO 8601 local time with its UTC offset, to the minute (interval starts are whole
 * minutes): `2026-01-05T10:00+01:00`. @throws RangeError for an unknown time zone
 */
export function localIsoMinute(ts: number, timeZone: string): string {
  const f = wallClock(ts, timeZone);
  const offsetMin = Math.round(offsetMs(ts, f) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * The first instant (epoch ms) of the local calendar day `ts` falls on in `timeZone`: local
 * midnight, or the first minute after it where a clock change skips midnight. A change earlier
 * that day means the offset at `ts` is not the offset at the day's start, so the start is
 * reckoned with the offset at a first guess too, and the earliest guess on the same day wins.
 * @throws RangeError for an unknown time zone
 */
export function localDayStart(ts: number, timeZone: string): number {
  const f = wallClock(ts, timeZone);
  const midnightAsUtc = Date.UTC(f.year, f.month - 1, f.day);
  const sameDay = (at: number) => {
    const g = wallClock(at, timeZone);
    return g.year === f.year && g.month === f.month && g.day === f.day;
  };
  const first = midnightAsUtc - offsetMs(ts, f);
  const second = midnightAsUtc - offsetMs(first, wallClock(first, timeZone));
  const candidates = [first, second].filter(sameDay);
  return candidates.length === 0 ? first : Math.min(...candidates);
}

/**
 * The zone's offset from UTC at `ts` (whose wall clock is `f`): what the wall clock reads minus
 * UTC, both to the minute.
 */
function offsetMs(ts: number, f: Record<'year' | 'month' | 'day' | 'hour' | 'minute', number>): number {
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute) - Math.floor(ts / 60_000) * 60_000;
}
