import { dateTimeFormat } from '@dealdome/domain';

/**
 * A moment as people in `timeZone` read it, with the UTC offset it has there:
 * "Monday 2 March 2026, 14:05 (UTC+01:00)". The offset is what an ISO 8601 time
 * the model writes for that zone needs.
 */
export function localTime(at: Date, timeZone: string): string {
  const parts = dateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = part('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')} (UTC${offset})`;
}
