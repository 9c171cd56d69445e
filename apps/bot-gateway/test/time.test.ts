import { todayIn } from '@dealdome/domain';
import { resolvePnlRange } from '../src/time';
import { derivedUuid } from '../src/ids';

describe('P&L ranges in the team time zone', () => {
  it('when each range word is resolved on 2026-03-15, then both ends are the expected calendar days', () => {
    const today = '2026-03-15';
    expect(resolvePnlRange('today', today)).toEqual({ from: today, to: today });
    expect(resolvePnlRange('yesterday', today)).toEqual({ from: '2026-03-14', to: '2026-03-14' });
    expect(resolvePnlRange('7d', today)).toEqual({ from: '2026-03-09', to: today });
    expect(resolvePnlRange('30d', today)).toEqual({ from: '2026-02-14', to: today });
    expect(resolvePnlRange('mtd', today)).toEqual({ from: '2026-03-01', to: today });
    expect(resolvePnlRange('last-month', today)).toEqual({ from: '2026-02-01', to: '2026-02-28' });
    expect(resolvePnlRange('last-month', '2026-01-31')).toEqual({ from: '2025-12-01', to: '2025-12-31' });
  });

  it('when it is late evening in UTC, then it is already tomorrow in Auckland', () => {
    const instant = new Date('2026-03-15T22:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-03-15');
    expect(todayIn('Pacific/Auckland', instant)).toBe('2026-03-16');
  });
});

describe('derived ids', () => {
  it('when the same name is derived twice, then the uuid is the same, version 8, and differs for another name', () => {
    const a = derivedUuid('update/1/message/0');
    expect(a).toBe(derivedUuid('update/1/message/0'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid('update/1/message/1')).not.toBe(a);
  });
});
