import { todayIn } from '@dealdome/domain';
import { resolveRange } from './ranges';

describe('resolveRange', () => {
  const today = '2026-03-04'; // a Wednesday

  it.each([
    ['today', '2026-03-04', '2026-03-04'],
    ['yesterday', '2026-03-03', '2026-03-03'],
    ['7d', '2026-02-26', '2026-03-04'],
    ['1d', '2026-03-04', '2026-03-04'],
    ['wtd', '2026-03-02', '2026-03-04'],
    ['last-week', '2026-02-23', '2026-03-01'],
    ['mtd', '2026-03-01', '2026-03-04'],
    ['last-month', '2026-02-01', '2026-02-28'],
    ['ytd', '2026-01-01', '2026-03-04'],
    ['2026-02-14', '2026-02-14', '2026-02-14'],
    ['2024-02', '2024-02-01', '2024-02-29'],
    ['2026-01-01..2026-01-31', '2026-01-01', '2026-01-31'],
    [' MTD ', '2026-03-01', '2026-03-04'],
  ])('when the range is "%s", then it is %s to %s', (range, from, to) => {
    expect(resolveRange(range, today)).toEqual({ from, to });
  });

  it('when it is January, then last-month is December of the year before', () => {
    expect(resolveRange('last-month', '2026-01-15')).toEqual({ from: '2025-12-01', to: '2025-12-31' });
  });

  it('when today is a Monday, then last-week is the full week before it', () => {
    expect(resolveRange('last-week', '2026-03-02')).toEqual({ from: '2026-02-23', to: '2026-03-01' });
  });

  it.each(['last quarter', '2026-02-30', '0d', '400d', '2026-03-05..2026-03-01', '2026-13'])(
    'when the range is "%s", then an error the model can read lists what is understood',
    (range) => {
      expect(() => resolveRange(range, today)).toThrow(expect.objectContaining({ status: 400 }));
    },
  );
});

describe('todayIn', () => {
  it('when it is late evening in UTC, then a zone east of it is already on the next day and one west is not', () => {
    const now = new Date('2026-03-04T22:30:00Z');
    expect(todayIn('UTC', now)).toBe('2026-03-04');
    expect(todayIn('Pacific/Kiritimati', now)).toBe('2026-03-05');
    expect(todayIn('America/Los_Angeles', now)).toBe('2026-03-04');
  });
});
