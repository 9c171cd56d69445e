import { AppError, describeCron, formatLocalTime, nextRunAt, parseReminder, reminderExamples } from '../src';
import type { ParsedReminder } from '../src';

const AMSTERDAM = 'Europe/Amsterdam';

/** The wall-clock day and time in Amsterdam, to read results as a person there would. */
const local = (d: Date) => new Intl.DateTimeFormat('sv-SE', { timeZone: AMSTERDAM, dateStyle: 'short', timeStyle: 'short' }).format(d);

const parse = (text: string, now: string, timeZone = AMSTERDAM) => parseReminder(text, { now: new Date(now), timeZone });

function once(result: ParsedReminder): { runAt: Date; text: string } {
  if (result.kind !== 'once') throw new Error(`expected a one-shot reminder, got ${JSON.stringify(result)}`);
  return result;
}

function refusal(text: string, now: string, timeZone = AMSTERDAM): AppError {
  try {
    parse(text, now, timeZone);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`"${text}" was not refused`);
}

// Thursday 5 December 2024, 09:00 in Amsterdam (CET, UTC+1).
const THURSDAY_MORNING = '2024-12-05T08:00:00Z';

describe('parseReminder: one-shot phrases', () => {
  it('when "in 2h …" is given, then it runs two hours later and the rest is the text', () => {
    expect(parse('in 2h call the supplier', THURSDAY_MORNING)).toEqual({
      kind: 'once',
      runAt: new Date('2024-12-05T10:00:00Z'),
      text: 'call the supplier',
    });
  });

  it('when minutes, combined and spelled-out durations are given, then each adds up to real time', () => {
    expect(once(parse('in 30 minutes check the ads', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-05T08:30:00Z'));
    expect(once(parse('in 1h30 x', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-05T09:30:00Z'));
    expect(once(parse('in 1 hour and 15 min x', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-05T09:15:00Z'));
    expect(once(parse('in an hour x', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-05T09:00:00Z'));
    expect(once(parse('in half an hour x', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-05T08:30:00Z'));
  });

  it('when "tomorrow 9:00 …" is given, then it is 09:00 on the next day in the team’s zone', () => {
    const result = once(parse('tomorrow 9:00 send the invoices', THURSDAY_MORNING));
    expect(result).toEqual({ runAt: new Date('2024-12-06T08:00:00Z'), text: 'send the invoices', kind: 'once' });
  });

  it('when a weekday and time are given, then it is the next such day; a weekday whose time passed today is next week', () => {
    expect(local(once(parse('friday 14:30 review the Meta campaigns', THURSDAY_MORNING)).runAt)).toBe('2024-12-06 14:30');
    // Thursday 07:00 said on Thursday at 09:00: next Thursday, not a time gone by.
    expect(local(once(parse('thursday 7:00 x', THURSDAY_MORNING)).runAt)).toBe('2024-12-12 07:00');
    expect(local(once(parse('thursday 17:00 x', THURSDAY_MORNING)).runAt)).toBe('2024-12-05 17:00');
  });

  it('when "on 3 december at 10 …" is given, then it is that date at 10:00; once the date has passed this year, next year’s', () => {
    expect(parse('on 3 december at 10 pay the VAT', '2024-11-20T12:00:00Z')).toEqual({
      kind: 'once',
      runAt: new Date('2024-12-03T09:00:00Z'),
      text: 'pay the VAT',
    });
    expect(local(once(parse('on 3 december at 10 pay the VAT', THURSDAY_MORNING)).runAt)).toBe('2025-12-03 10:00');
    // Day first: 3/12 is 3 December.
    expect(local(once(parse('3/12 at 10:15 x', '2024-11-20T12:00:00Z')).runAt)).toBe('2024-12-03 10:15');
  });

  it('when the phrase is followed by "to" or a separator, or starts with "me", then the text is what is meant', () => {
    expect(once(parse('me tomorrow at 9:00 to call the bank', THURSDAY_MORNING)).text).toBe('call the bank');
    expect(once(parse('in 2h: restock <Cups & Saucers>', THURSDAY_MORNING)).text).toBe('restock <Cups & Saucers>');
  });

  it('when the phrase names its own offset, then that offset is used instead of the team’s zone', () => {
    expect(once(parse('tomorrow 9:00 UTC x', THURSDAY_MORNING)).runAt).toEqual(new Date('2024-12-06T09:00:00Z'));
  });

  it('when the team’s zone is not Amsterdam, then wall-clock times are read in it', () => {
    // 08:00Z on 5 December is 03:00 in New York (UTC-5).
    expect(once(parse('tomorrow 9:00 x', THURSDAY_MORNING, 'America/New_York')).runAt).toEqual(new Date('2024-12-06T14:00:00Z'));
    expect(once(parse('tomorrow 9:00 x', THURSDAY_MORNING, 'UTC')).runAt).toEqual(new Date('2024-12-06T09:00:00Z'));
  });
});

describe('parseReminder across daylight saving time in Europe/Amsterdam', () => {
  // Clocks jump from 02:00 to 03:00 on Sunday 30 March 2025 and go back from 03:00 to 02:00 on Sunday 26 October 2025.

  it('when "tomorrow 9:00" is asked the day before clocks go forward, then it is 09:00 summer time (07:00Z)', () => {
    const result = once(parse('tomorrow 9:00 x', '2025-03-29T09:00:00Z'));
    expect(result.runAt).toEqual(new Date('2025-03-30T07:00:00Z'));
    expect(local(result.runAt)).toBe('2025-03-30 09:00');
  });

  it('when "tomorrow 9:00" is asked the day before clocks go back, then it is 09:00 winter time (08:00Z)', () => {
    const result = once(parse('tomorrow 9:00 x', '2025-10-25T08:00:00Z'));
    expect(result.runAt).toEqual(new Date('2025-10-26T08:00:00Z'));
    expect(local(result.runAt)).toBe('2025-10-26 09:00');
  });

  it('when "in 2h" spans the spring change, then it is two real hours (local clock moves three)', () => {
    // 01:30 CET → 04:30 CEST.
    const result = once(parse('in 2h x', '2025-03-30T00:30:00Z'));
    expect(result.runAt.getTime() - Date.parse('2025-03-30T00:30:00Z')).toBe(2 * 3_600_000);
    expect(local(result.runAt)).toBe('2025-03-30 04:30');
  });

  it('when "in 2h" spans the autumn change, then it is two real hours (local clock moves one)', () => {
    // 01:30 CEST → 02:30 CET.
    const result = once(parse('in 2h x', '2025-10-25T23:30:00Z'));
    expect(result.runAt.getTime() - Date.parse('2025-10-25T23:30:00Z')).toBe(2 * 3_600_000);
    expect(local(result.runAt)).toBe('2025-10-26 02:30');
  });

  it('when "in 1 day" spans a change, then it is the same wall-clock time the next day (23 or 25 real hours)', () => {
    expect(local(once(parse('in 1 day x', '2025-03-29T09:00:00Z')).runAt)).toBe('2025-03-30 10:00');
    expect(local(once(parse('in 1 day x', '2025-10-25T08:00:00Z')).runAt)).toBe('2025-10-26 10:00');
  });

  it('when a time happens twice (02:30 as clocks go back), then the first occurrence is meant; one that does not exist moves on by the gap', () => {
    expect(once(parse('tomorrow 2:30 x', '2025-10-25T08:00:00Z')).runAt).toEqual(new Date('2025-10-26T00:30:00Z'));
    expect(local(once(parse('tomorrow 2:30 x', '2025-03-29T09:00:00Z')).runAt)).toBe('2025-03-30 03:30');
  });

  it('when "every day 9:00" runs over both changes, then each run is at 09:00 local', () => {
    const result = parse('every day 9:00 x', '2025-03-28T12:00:00Z');
    expect(result).toMatchObject({ kind: 'recurring', cron: '0 9 * * *', timeZone: AMSTERDAM });
    const spring = nextRunAt('0 9 * * *', AMSTERDAM, new Date('2025-03-29T12:00:00Z'));
    expect(spring).toEqual(new Date('2025-03-30T07:00:00Z'));
    const autumn = nextRunAt('0 9 * * *', AMSTERDAM, new Date('2025-10-25T12:00:00Z'));
    expect(autumn).toEqual(new Date('2025-10-26T08:00:00Z'));
  });
});

describe('parseReminder: recurring phrases', () => {
  it('when "every monday 8:30 …" is given, then the cron is "30 8 * * 1" in the team’s zone, described in words', () => {
    expect(parse('every monday 8:30 weekly stand-up', THURSDAY_MORNING)).toEqual({
      kind: 'recurring',
      cron: '30 8 * * 1',
      timeZone: AMSTERDAM,
      text: 'weekly stand-up',
      description: 'every Monday at 08:30',
    });
  });

  it('when every day, weekday, weekend, several days or a day of the month is asked, then each has its cron and words', () => {
    const cases: [string, string, string][] = [
      ['every day 9:00 check orders', '0 9 * * *', 'every day at 09:00'],
      ['every weekday 8:00 answer tickets', '0 8 * * 1-5', 'every weekday (Monday to Friday) at 08:00'],
      ['every weekend at 10 check the shop', '0 10 * * 0,6', 'every Saturday and Sunday at 10:00'],
      ['every mon, wed and fri 9am post on Instagram', '0 9 * * 1,3,5', 'every Monday, Wednesday and Friday at 09:00'],
      ['every monday and thursday 5:45 pm reorder', '45 17 * * 1,4', 'every Monday and Thursday at 17:45'],
      ['every month on the 1st 9:00 send the P&L', '0 9 1 * *', 'on the 1st of every month at 09:00'],
      ['every 15th of the month at noon pay salaries', '0 12 15 * *', 'on the 15th of every month at 12:00'],
      ['each sunday at midnight back up', '0 0 * * 0', 'every Sunday at 00:00'],
    ];
    for (const [text, cron, description] of cases) {
      // The phrase rides along so that a failure names it.
      expect({ phrase: text, ...parse(text, THURSDAY_MORNING) }).toMatchObject({ phrase: text, cron, description, kind: 'recurring' });
    }
  });

  it('when the generated cron is run, then its next slot is the one the words say', () => {
    const result = parse('every month on the 1st 9:00 send the P&L', THURSDAY_MORNING);
    if (result.kind !== 'recurring') throw new Error('expected recurring');
    expect(local(nextRunAt(result.cron, result.timeZone, new Date(THURSDAY_MORNING)))).toBe('2025-01-01 09:00');
    expect(result.text).toBe('send the P&L');
  });

  it('when a day of the month some months lack is asked, then the words say those months are skipped', () => {
    const result = parse('every month on the 31st 9:00 close the books', THURSDAY_MORNING);
    expect(result).toMatchObject({ cron: '0 9 31 * *', description: 'on the 31st of every month at 09:00 (months without a 31st are skipped)' });
  });
});

describe('parseReminder refusals', () => {
  it('when a named time has passed ("today 7:00" at 09:00), then it is refused with the times, not moved', () => {
    const err = refusal('today 7:00 call the bank', THURSDAY_MORNING);
    expect(err.status).toBe(422);
    expect(err.fieldErrors?.when?.[0]).toBe(
      '"today 7:00" is Thu 5 Dec 2024, 07:00, which has passed: it is Thu 5 Dec 2024, 09:00 in Europe/Amsterdam now. Name a later time.',
    );
    expect(refusal('3 december 2024 10:00 x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toContain('which has passed');
  });

  it('when no text follows the time, then it is refused on the text', () => {
    const err = refusal('tomorrow 9:00', THURSDAY_MORNING);
    expect(err.fieldErrors).toEqual({ text: ['Say what to be reminded of after the time.'] });
    expect(refusal('in 2h   ', THURSDAY_MORNING).fieldErrors).toEqual({ text: ['Say what to be reminded of after the time.'] });
  });

  it('when a day has no time, then it is refused rather than given a guessed hour', () => {
    expect(refusal('tomorrow call the bank', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe(
      '"tomorrow" names a day but no time; add one, such as "tomorrow 9:00".',
    );
    expect(refusal('every monday call the bank', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe(
      '"every monday" needs a time, such as "every monday 9:00".',
    );
    // A bare number is no time: the 3 belongs to the text.
    expect(refusal('every monday 3 new listings', THURSDAY_MORNING).fieldErrors?.when?.[0]).toContain('needs a time');
  });

  it('when nothing at the start reads as a time, then the refusal says so and shows examples', () => {
    const err = refusal('call the bank', THURSDAY_MORNING);
    expect(err.status).toBe(422);
    expect(err.fieldErrors?.when?.[0]).toBe('I cannot read a time at the start of "call the bank".');
    expect(err.message).toContain('For example: "in 2h check the ad budget", "in 30 minutes call the supplier back", "tomorrow 9:00 send the invoices"');
    for (const example of reminderExamples) expect(err.message).toContain(`"${example}"`);
    expect(refusal('', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('Say when, then what to be reminded of.');
  });

  it('when a recurring phrase is not one the parser knows or its time is no time of day, then it is refused', () => {
    expect(refusal('every fortnight 9:00 x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toContain('I cannot read how often');
    expect(refusal('every day 25:00 x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('"25:00" is not a time of day.');
    expect(refusal('every day 13pm x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('"13pm" is not a time of day.');
    expect(refusal('every month on the 32nd 9:00 x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('A month has no day 32.');
  });

  it('when the duration is zero, too far ahead or the text too long, then it is refused', () => {
    expect(refusal('in 0 minutes x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('"in 0 minutes" is now; name a time ahead.');
    expect(refusal('in 600 weeks x', THURSDAY_MORNING).fieldErrors?.when?.[0]).toBe('"in 600 weeks" is more than 10 years away.');
    expect(refusal(`in 2h ${'x'.repeat(3501)}`, THURSDAY_MORNING).fieldErrors?.text?.[0]).toBe(
      'The reminder is 3501 characters long; it may have at most 3500.',
    );
  });

  it('when the time zone is not an IANA zone, then it is refused with the cron module’s message', () => {
    expect(refusal('in 2h x', THURSDAY_MORNING, 'Mars/Olympus').message).toBe(
      '"Mars/Olympus" is not a time zone: expected an IANA time zone such as "Europe/Amsterdam"',
    );
  });
});

describe('describeCron and formatLocalTime', () => {
  it('when an expression is not a form /remind makes, then there are no words for it', () => {
    expect(describeCron('*/15 * * * *')).toBeUndefined();
    expect(describeCron('0 9 1 1 *')).toBeUndefined();
    expect(describeCron('0 9 1 * 1')).toBeUndefined();
    expect(describeCron('0 9 * * MON')).toBeUndefined();
    expect(describeCron('0 9 * * 0-6')).toBe('every day at 09:00');
    expect(describeCron('5 7 * * 7')).toBe('every Sunday at 07:05');
    expect(describeCron('0 9 22 * *')).toBe('on the 22nd of every month at 09:00');
    expect(describeCron('0 9 11 * *')).toBe('on the 11th of every month at 09:00');
  });

  it('when an instant is formatted, then it is the wall-clock time of the zone', () => {
    expect(formatLocalTime(new Date('2025-03-30T07:00:00Z'), AMSTERDAM)).toBe('Sun 30 Mar 2025, 09:00');
    expect(formatLocalTime(new Date('2025-03-30T07:00:00Z'), 'UTC')).toBe('Sun 30 Mar 2025, 07:00');
  });
});
