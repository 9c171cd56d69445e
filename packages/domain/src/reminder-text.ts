import * as chrono from 'chrono-node';
import { DateTime } from 'luxon';
import { dateTimeFormat } from './calendar';
import { unprocessable } from './errors';
import type { AppError } from './errors';
import { assertTimeZone, MAX_REMINDER_LENGTH, nextRunAt } from './scheduled-tasks';

/**
 * What people type after /remind: a time phrase, then the text to be reminded of.
 *
 * - "in 2h …", "in 30 minutes …", "in 1h30 …": hours and minutes are elapsed time
 *   (two real hours, whatever the clocks do); "in 2 days …" and "in 1 week …" are
 *   calendar days, at the same wall-clock time.
 * - "tomorrow 9:00 …", "friday 14:30 …", "on 3 december at 10 …": read by chrono-node
 *   as a wall-clock time in the team's time zone, then turned into an instant there,
 *   so "tomorrow 9:00" is 09:00 local on the day after a clock change too. Dates are
 *   day-first (3/12 is 3 December). A weekday or a date without a year means the next
 *   one; a named time that has passed ("today 7:00" at 08:00) is refused, not moved.
 * - "every day 9:00 …", "every monday 8:30 …", "every monday and thursday 9am …",
 *   "every weekday 8:00 …", "every weekend 10:00 …", "every month on the 1st 9:00 …":
 *   a 5-field cron expression, read in the team's time zone.
 *
 * A day without a time ("tomorrow call the bank") is refused: guessing an hour would
 * remind people when they did not ask.
 */

export type ParsedReminder =
  | { kind: 'once'; runAt: Date; text: string }
  | { kind: 'recurring'; cron: string; timeZone: string; text: string; description: string };

export interface ReminderParseOptions {
  now: Date;
  /** The IANA time zone wall-clock times are read in (the team's). */
  timeZone: string;
}

/** What /remind and its refusals show, one per form the parser reads. */
export const reminderExamples = [
  'in 2h check the ad budget',
  'in 30 minutes call the supplier back',
  'tomorrow 9:00 send the invoices',
  'friday 14:30 review the Meta campaigns',
  'on 3 december at 10 pay the VAT',
  'every monday 8:30 weekly stand-up',
  'every day 9:00 check yesterday’s orders',
  'every weekday 8:00 answer support tickets',
  'every month on the 1st 9:00 send the P&L to the accountant',
] as const;

/** A one-shot reminder further ahead than this is most likely a typo. */
const MAX_YEARS_AHEAD = 10;

/**
 * The 422 a phrase gets: `reason` says what was wrong (also as the field error, for
 * callers that show their own examples), followed by examples of what works.
 */
function refuse(field: 'when' | 'text', reason: string): AppError {
  const examples = reminderExamples.map((e) => `"${e}"`).join(', ');
  return unprocessable(`${reason} For example: ${examples}.`, { [field]: [reason] });
}

const quote = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`}"`;
};

/** Reads a reminder phrase; throws a 422 that says what was wrong and shows examples. */
export function parseReminder(input: string, options: ReminderParseOptions): ParsedReminder {
  const zone = assertTimeZone(options.timeZone);
  // "remind me in 2h …" reads naturally, so a leading "me" is allowed.
  const source = input.trim().replace(/^me\s+/i, '');
  if (source === '') throw refuse('when', 'Say when, then what to be reminded of.');
  if (/^(?:every|each)\s/i.test(source)) return parseRecurring(source, zone, options.now);
  const elapsed = /^in\s/i.test(source) ? parseIn(source, zone, options.now) : undefined;
  return elapsed ?? parseMoment(source, zone, options.now);
}

/** What is left after the time phrase: separators and a leading "to"/"that" go ("tomorrow 9:00 to call the bank"). */
function reminderText(rest: string): string {
  const text = rest
    .trim()
    .replace(/^[:,;–—-]+\s*/, '')
    .replace(/^(?:to|that)\s+/i, '')
    .trim();
  if (text === '') throw refuse('text', 'Say what to be reminded of after the time.');
  if (text.length > MAX_REMINDER_LENGTH) {
    throw refuse('text', `The reminder is ${text.length} characters long; it may have at most ${MAX_REMINDER_LENGTH}.`);
  }
  return text;
}

function checkAhead(runAt: Date, zone: string, now: Date, phrase: string): Date {
  if (Number.isNaN(runAt.getTime())) throw refuse('when', `${quote(phrase)} is not a time I can read.`);
  if (runAt.getTime() <= now.getTime()) {
    throw refuse(
      'when',
      `${quote(phrase)} is ${formatLocalTime(runAt, zone)}, which has passed: it is ${formatLocalTime(now, zone)} in ${zone} now. Name a later time.`,
    );
  }
  if (DateTime.fromJSDate(now, { zone }).plus({ years: MAX_YEARS_AHEAD }).toMillis() < runAt.getTime()) {
    throw refuse('when', `${quote(phrase)} is more than ${MAX_YEARS_AHEAD} years away.`);
  }
  return runAt;
}

// ---------------------------------------------------------------- "in 2h …"

const DURATION_UNITS: Record<string, 'minutes' | 'hours' | 'days' | 'weeks'> = {
  m: 'minutes',
  min: 'minutes',
  mins: 'minutes',
  minute: 'minutes',
  minutes: 'minutes',
  h: 'hours',
  hr: 'hours',
  hrs: 'hours',
  hour: 'hours',
  hours: 'hours',
  d: 'days',
  day: 'days',
  days: 'days',
  w: 'weeks',
  wk: 'weeks',
  wks: 'weeks',
  week: 'weeks',
  weeks: 'weeks',
};
const DURATION_PART = /^(?:(?:,|and)\s*)?(\d{1,5}|an?|one|half\s+an?)\s*(minutes?|mins?|m|hours?|hrs?|hr|h|days?|d|weeks?|wks?|wk|w)(?![a-z])\s*/i;
const COMPACT_HOURS = /^(\d{1,5})h(\d{2})m?(?![a-z\d])\s*/i;

/**
 * "in 2h", "in 30 minutes", "in 1h30", "in an hour", "in 2 days": undefined when no
 * duration follows "in" (chrono may still read it, as in "in december").
 */
function parseIn(source: string, zone: string, now: Date): ParsedReminder | undefined {
  let rest = source.slice(2).trimStart();
  const total = { minutes: 0, hours: 0, days: 0, weeks: 0 };
  let parts = 0;
  for (;;) {
    const compact = COMPACT_HOURS.exec(rest);
    if (compact) {
      total.hours += Number(compact[1]);
      total.minutes += Number(compact[2]);
      rest = rest.slice(compact[0].length);
      parts += 1;
      continue;
    }
    const part = DURATION_PART.exec(rest);
    if (!part) break;
    const amountWord = part[1]!.toLowerCase().replace(/\s+/g, ' ');
    const amount = /^\d/.test(amountWord) ? Number(amountWord) : amountWord.startsWith('half') ? 0.5 : 1;
    const unit = DURATION_UNITS[part[2]!.toLowerCase()]!;
    if (amount % 1 !== 0 && (unit === 'days' || unit === 'weeks')) return undefined;
    total[unit] += amount;
    rest = rest.slice(part[0].length);
    parts += 1;
  }
  if (parts === 0) return undefined;
  const phrase = source.slice(0, source.length - rest.length).trim();
  const elapsedMs = (total.hours * 60 + total.minutes) * 60_000;
  if (elapsedMs + total.days + total.weeks === 0) throw refuse('when', `${quote(phrase)} is now; name a time ahead.`);
  // Days and weeks move the calendar (same wall-clock time); hours and minutes are real time.
  const calendar = DateTime.fromJSDate(now, { zone }).plus({ days: total.days, weeks: total.weeks });
  const runAt = checkAhead(new Date(calendar.toMillis() + elapsedMs), zone, now, phrase);
  return { kind: 'once', runAt, text: reminderText(rest) };
}

// ---------------------------------------------------------------- "tomorrow 9:00 …"

/**
 * The instant a wall-clock time has in `zone`. A time that happens twice (clocks
 * going back) is its first occurrence, as cron slots are; a time that does not exist
 * (clocks jumping forward) moves on by the length of the gap.
 */
function wallClockInstant(parts: { year: number; month: number; day: number; hour: number; minute: number }, zone: string): Date {
  const local = DateTime.fromObject(parts, { zone });
  const occurrences = local.getPossibleOffsets().map((d) => d.toMillis());
  return new Date(occurrences.length > 0 ? Math.min(...occurrences) : local.toMillis());
}

/** A day and time chrono-node reads at the start of the text ("tomorrow 9:00", "friday 14:30", "on 3 december at 10"). */
function parseMoment(source: string, zone: string, now: Date): ParsedReminder {
  const wall = DateTime.fromJSDate(now, { zone });
  // chrono is given the wall clock as if it were UTC: what it reads are wall-clock
  // fields, turned into an instant in the zone below (chrono knows offsets, not zones).
  const reference = new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond));
  const [found] = chrono.en.GB.parse(source, { instant: reference, timezone: 0 }, { forwardDate: true });
  if (!found || !/^(?:(?:on|at)\s+)?$/i.test(source.slice(0, found.index))) {
    throw refuse('when', `I cannot read a time at the start of ${quote(source)}.`);
  }
  const start = found.start;
  if (!start.isCertain('hour')) {
    throw refuse('when', `${quote(found.text)} names a day but no time; add one, such as "${found.text} 9:00".`);
  }
  let runAt: Date;
  if (found.tags().has('result/relativeDateAndTime')) {
    // "2 hours from now": real time, like "in 2h".
    runAt = new Date(now.getTime() + (start.date().getTime() - reference.getTime()));
  } else if (start.isCertain('timezoneOffset')) {
    // "tomorrow 9:00 UTC": the phrase names its own offset.
    runAt = start.date();
  } else {
    runAt = wallClockInstant(
      { year: start.get('year')!, month: start.get('month')!, day: start.get('day')!, hour: start.get('hour')!, minute: start.get('minute') ?? 0 },
      zone,
    );
  }
  checkAhead(runAt, zone, now, source.slice(0, found.index + found.text.length));
  return { kind: 'once', runAt, text: reminderText(source.slice(found.index + found.text.length)) };
}

// ---------------------------------------------------------------- "every monday 8:30 …"

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const WEEKDAY_WORDS: Record<string, number> = {
  sun: 0, sunday: 0,
  mon: 1, monday: 1,
  tue: 2, tues: 2, tuesday: 2,
  wed: 3, wednesday: 3,
  thu: 4, thur: 4, thurs: 4, thursday: 4,
  fri: 5, friday: 5,
  sat: 6, saturday: 6,
};
const WEEKDAY = /^(sunday|sun|monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|saturday|sat)s?(?![a-z])\s*/i;
const LIST_SEPARATOR = /^(?:,|&|\+|and)\s*/i;
const MONTHLY = [
  /^month\s+on\s+the\s+(\d{1,2})(?:st|nd|rd|th)?(?![a-z\d])\s*/i,
  /^(\d{1,2})(?:st|nd|rd|th)\s+of\s+the\s+month(?![a-z])\s*/i,
];

type Days = { dayOfMonth: number } | { weekdays: number[] } | 'daily';

/** The day part after "every": undefined when it is none the parser knows. */
function readDays(text: string): { days: Days; rest: string } | undefined {
  const simple: [RegExp, Days][] = [
    [/^day(?![a-z])\s*/i, 'daily'],
    [/^(?:weekday|working\s+day|work\s*day|business\s+day)s?(?![a-z])\s*/i, { weekdays: [1, 2, 3, 4, 5] }],
    [/^weekend(?:\s+day)?s?(?![a-z])\s*/i, { weekdays: [0, 6] }],
  ];
  for (const [pattern, days] of simple) {
    const match = pattern.exec(text);
    if (match) return { days, rest: text.slice(match[0].length) };
  }
  for (const pattern of MONTHLY) {
    const match = pattern.exec(text);
    if (match) return { days: { dayOfMonth: Number(match[1]) }, rest: text.slice(match[0].length) };
  }
  const weekdays = new Set<number>();
  let rest = text;
  for (let first = true; ; first = false) {
    const separator = first ? undefined : LIST_SEPARATOR.exec(rest);
    const candidate = separator ? rest.slice(separator[0].length) : rest;
    const match = WEEKDAY.exec(candidate);
    if (!match) break;
    weekdays.add(WEEKDAY_WORDS[match[1]!.toLowerCase()]!);
    rest = candidate.slice(match[0].length);
  }
  if (weekdays.size === 0) return undefined;
  return { days: { weekdays: [...weekdays].sort((a, b) => a - b) }, rest };
}

/**
 * A time of day: "8:30", "8.30", "14:30", "9am", "9:30 pm", "at 9", "noon",
 * "midnight". A bare number is read as an hour only after "at": in "every monday 3
 * new listings" the 3 is part of the text.
 */
function readTime(text: string): { hour: number; minute: number; rest: string; phrase: string } | undefined {
  const named = /^(?:at\s+)?(noon|midday|midnight)(?![a-z])\s*/i.exec(text);
  if (named) return { hour: named[1]!.toLowerCase() === 'midnight' ? 0 : 12, minute: 0, rest: text.slice(named[0].length), phrase: named[0].trim() };
  const match = /^(at\s+)?(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\w:.])\s*/i.exec(text);
  if (!match) return undefined;
  const [whole, at, hourText, minuteText, meridiem] = match;
  if (!at && minuteText === undefined && !meridiem) return undefined;
  let hour = Number(hourText);
  const minute = Number(minuteText ?? 0);
  const phrase = whole.trim();
  if (meridiem) {
    if (hour < 1 || hour > 12) throw refuse('when', `${quote(phrase)} is not a time of day.`);
    hour = (hour % 12) + (meridiem.toLowerCase().startsWith('p') ? 12 : 0);
  }
  if (hour > 23 || minute > 59) throw refuse('when', `${quote(phrase)} is not a time of day.`);
  return { hour, minute, rest: text.slice(whole.length), phrase };
}

function parseRecurring(source: string, zone: string, now: Date): ParsedReminder {
  const afterEvery = source.replace(/^(?:every|each)\s+/i, '');
  const read = readDays(afterEvery);
  if (!read) {
    throw refuse(
      'when',
      `I cannot read how often in ${quote(source)}: say "every day", "every weekday", "every weekend", "every monday" (or several days) or "every month on the 1st".`,
    );
  }
  const dayPhrase = source.slice(0, source.length - read.rest.length).trim();
  const time = readTime(read.rest);
  if (!time) throw refuse('when', `${quote(dayPhrase)} needs a time, such as "${dayPhrase} 9:00".`);
  const { days } = read;
  if (typeof days === 'object' && 'dayOfMonth' in days && (days.dayOfMonth < 1 || days.dayOfMonth > 31)) {
    throw refuse('when', `A month has no day ${days.dayOfMonth}.`);
  }
  const dayOfMonth = typeof days === 'object' && 'dayOfMonth' in days ? String(days.dayOfMonth) : '*';
  const weekdays = typeof days === 'object' && 'weekdays' in days ? days.weekdays.join(',') : '*';
  const dayOfWeek = weekdays === '1,2,3,4,5' ? '1-5' : weekdays;
  const cron = `${time.minute} ${time.hour} ${dayOfMonth} * ${dayOfWeek}`;
  // The expression is ours, but the library that runs it has the last word.
  nextRunAt(cron, zone, now);
  return { kind: 'recurring', cron, timeZone: zone, text: reminderText(time.rest), description: describeCron(cron)! };
}

// ---------------------------------------------------------------- words

const pad2 = (n: number) => String(n).padStart(2, '0');
const ordinal = (n: number) => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
};
const listWords = (words: string[]) => (words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);

/** The days of a day-of-week field such as "1-5" or "0,6"; undefined for anything more involved. */
function weekdaysOf(field: string): Set<number> | undefined {
  const days = new Set<number>();
  for (const item of field.split(',')) {
    const range = /^(\d)(?:-(\d))?$/.exec(item);
    if (!range) return undefined;
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    if (from > 7 || to > 7 || from > to) return undefined;
    for (let d = from; d <= to; d += 1) days.add(d % 7);
  }
  return days;
}

/**
 * A cron expression in words, for the forms /remind makes ("every Monday at 08:30",
 * "on the 1st of every month at 09:00"); undefined for any other expression, which is
 * then best shown as it is.
 */
export function describeCron(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (!/^\d{1,2}$/.test(minute) || !/^\d{1,2}$/.test(hour) || month !== '*') return undefined;
  if (Number(minute) > 59 || Number(hour) > 23) return undefined;
  const at = `at ${pad2(Number(hour))}:${pad2(Number(minute))}`;

  if (dayOfWeek === '*' && dayOfMonth === '*') return `every day ${at}`;
  if (dayOfWeek === '*' && /^\d{1,2}$/.test(dayOfMonth)) {
    const day = Number(dayOfMonth);
    if (day < 1 || day > 31) return undefined;
    const skipped = day > 28 ? ` (months without a ${ordinal(day)} are skipped)` : '';
    return `on the ${ordinal(day)} of every month ${at}${skipped}`;
  }
  if (dayOfMonth !== '*') return undefined;
  const days = weekdaysOf(dayOfWeek);
  if (!days) return undefined;
  if (days.size === 7) return `every day ${at}`;
  if (days.size === 5 && [1, 2, 3, 4, 5].every((d) => days.has(d))) return `every weekday (Monday to Friday) ${at}`;
  // Listed Monday first, as the week is read here.
  const names = [1, 2, 3, 4, 5, 6, 0].filter((d) => days.has(d)).map((d) => WEEKDAY_NAMES[d]!);
  return `every ${listWords(names)} ${at}`;
}

/** An instant as a person in `zone` reads it: "Fri 6 Dec 2024, 09:00". */
export function formatLocalTime(instant: Date, zone: string): string {
  const parts = dateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')}`;
}
