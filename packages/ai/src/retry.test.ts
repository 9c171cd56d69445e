import { retryAfterMs, retryDelayMs } from './retry';

describe('retry policy', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000 };

  it('when the server names a wait, then retry-after-ms, seconds and HTTP dates are all read', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-05-01T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 01 May 2026 10:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('when there is no retry-after, then the backoff doubles within its upper half and stops at the ceiling', () => {
    expect(retryDelayMs(policy, 1, undefined, () => 0)).toBe(250);
    expect(retryDelayMs(policy, 1, undefined, () => 1)).toBe(500);
    expect(retryDelayMs(policy, 3, undefined, () => 1)).toBe(2000);
    expect(retryDelayMs(policy, 10, undefined, () => 1)).toBe(8000);
  });

  it('when there is a retry-after, then the wait is at least that and at most 10 % more', () => {
    expect(retryDelayMs(policy, 1, 30_000, () => 0)).toBe(30_000);
    expect(retryDelayMs(policy, 1, 30_000, () => 1)).toBe(33_000);
  });
});
