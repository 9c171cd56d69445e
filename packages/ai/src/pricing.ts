import Decimal from 'decimal.js';

/** Enough significant digits that no product or sum of token prices is ever rounded. */
const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

/** USD per million tokens, as exact decimal strings. */
export interface ModelPrice {
  input: string;
  output: string;
  /** 5-minute cache write. */
  cacheWrite5m: string;
  /** 1-hour cache write. */
  cacheWrite1h: string;
  cacheRead: string;
}

/** The API's standard multipliers: 5-minute write 1.25×, 1-hour write 2×, read 0.1× of base input. */
function standard(input: string, output: string): ModelPrice {
  const base = new Money(input);
  return {
    input,
    output,
    cacheWrite5m: base.times('1.25').toFixed(),
    cacheWrite1h: base.times(2).toFixed(),
    cacheRead: base.times('0.1').toFixed(),
  };
}

/**
 * Anthropic list prices (platform.claude.com/docs/en/about-claude/pricing, standard
 * tier, global inference). Dated snapshots (`claude-sonnet-4-5-20250929`) are priced
 * as their alias.
 *
 * Deliberately absent, so their cost is null rather than wrong: Fable 5.1 and
 * Mythos 5.1 (cache reads below 0.1×), Opus 5.5 and Sonnet 5.5 (cache-read price
 * changed after launch), Haiku 5.5 (priced by prompt length). Not modelled: the
 * long-context surcharge of Sonnet 4/4.5 beyond 200K input tokens (only reachable
 * with the 1M-context beta header, which nothing here sends), US-only inference
 * and fast mode premiums, Batch API discounts.
 */
export const ANTHROPIC_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-fable-5': standard('10', '50'),
  'claude-mythos-5': standard('10', '50'),
  'claude-opus-5': standard('5', '25'),
  'claude-opus-4-8': standard('5', '25'),
  'claude-opus-4-7': standard('5', '25'),
  'claude-opus-4-6': standard('5', '25'),
  'claude-opus-4-5': standard('5', '25'),
  'claude-opus-4-1': standard('15', '75'),
  'claude-opus-4-0': standard('15', '75'),
  'claude-opus-4': standard('15', '75'),
  'claude-sonnet-5': standard('2', '10'),
  'claude-sonnet-4-6': standard('3', '15'),
  'claude-sonnet-4-5': standard('3', '15'),
  'claude-sonnet-4-0': standard('3', '15'),
  'claude-sonnet-4': standard('3', '15'),
  'claude-haiku-4-5': standard('1', '5'),
  'claude-3-5-haiku': standard('0.8', '4'),
};

/** Token counts of one API call, as the usage object reports them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** All cache writes, 5-minute and 1-hour. */
  cacheWriteTokens: number;
  /** The part of cacheWriteTokens written with the 1-hour TTL. */
  cacheWrite1hTokens: number;
}

export function priceFor(model: string, prices: Readonly<Record<string, ModelPrice>> = ANTHROPIC_PRICES): ModelPrice | undefined {
  return prices[model] ?? prices[model.replace(/-\d{8}$/, '')];
}

/**
 * Exact cost in USD of one call as a decimal string (never exponent notation), or
 * null for a model not in the price table.
 */
export function costUsd(
  model: string,
  usage: TokenUsage,
  prices: Readonly<Record<string, ModelPrice>> = ANTHROPIC_PRICES,
): string | null {
  const price = priceFor(model, prices);
  if (!price) return null;
  const write5m = Math.max(0, usage.cacheWriteTokens - usage.cacheWrite1hTokens);
  return new Money(usage.inputTokens)
    .times(price.input)
    .plus(new Money(usage.outputTokens).times(price.output))
    .plus(new Money(write5m).times(price.cacheWrite5m))
    .plus(new Money(usage.cacheWrite1hTokens).times(price.cacheWrite1h))
    .plus(new Money(usage.cacheReadTokens).times(price.cacheRead))
    .dividedBy(1_000_000)
    .toFixed();
}

/** Sum of costs, or null when any of them is unknown. */
export function sumCosts(costs: readonly (string | null)[]): string | null {
  let total = new Money(0);
  for (const cost of costs) {
    if (cost === null) return null;
    total = total.plus(cost);
  }
  return total.toFixed();
}

/** The API's usage block in our terms. */
export function usageFromApi(usage: {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_1h_input_tokens?: number | null } | null;
}): TokenUsage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
    cacheWrite1hTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? 0,
  };
}
