import { ANTHROPIC_PRICES, costUsd, priceFor, sumCosts } from './pricing';

const usage = (over: Partial<Parameters<typeof costUsd>[1]> = {}) => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  ...over,
});

describe('pricing', () => {
  it('when prices are derived, then cache writes are 1.25× (5 min) and 2× (1 h) and reads 0.1× of input', () => {
    expect(ANTHROPIC_PRICES['claude-sonnet-4-6']).toEqual({ input: '3', output: '15', cacheWrite5m: '3.75', cacheWrite1h: '6', cacheRead: '0.3' });
    expect(ANTHROPIC_PRICES['claude-3-5-haiku']).toEqual({ input: '0.8', output: '4', cacheWrite5m: '1', cacheWrite1h: '1.6', cacheRead: '0.08' });
  });

  it('when a dated snapshot is priced, then it costs what its alias costs', () => {
    expect(priceFor('claude-sonnet-4-5-20250929')).toBe(ANTHROPIC_PRICES['claude-sonnet-4-5']);
    expect(priceFor('claude-opus-4-20250514')).toBe(ANTHROPIC_PRICES['claude-opus-4']);
    expect(priceFor('claude-haiku-5-5')).toBeUndefined();
  });

  it('when a call is costed, then the result is exact and never in exponent notation', () => {
    expect(costUsd('claude-haiku-4-5', usage({ inputTokens: 1 }))).toBe('0.000001');
    expect(costUsd('claude-haiku-4-5', usage({ cacheReadTokens: 1 }))).toBe('0.0000001');
    // 1h writes at 2×, the rest of the writes at 1.25×: 300×6 + 700×3.75 = 4 425 → $0.004425.
    expect(costUsd('claude-sonnet-4-6', usage({ cacheWriteTokens: 1000, cacheWrite1hTokens: 300 }))).toBe('0.004425');
    expect(costUsd('claude-opus-4-6', usage({ inputTokens: 123_456, outputTokens: 7_891 }))).toBe('0.814555');
    expect(costUsd('nobody-knows', usage({ inputTokens: 1 }))).toBeNull();
  });

  it('when costs are summed, then one unknown makes the total unknown', () => {
    expect(sumCosts(['0.1', '0.2'])).toBe('0.3');
    expect(sumCosts(['0.1', null])).toBeNull();
    expect(sumCosts([])).toBe('0');
  });
});
