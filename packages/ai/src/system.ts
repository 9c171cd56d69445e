import type Anthropic from '@anthropic-ai/sdk';

/**
 * The system prompt as [stable, volatile] blocks. The stable part (persona, rules,
 * tool guidance) carries the cache breakpoint, so it is cached together with the
 * tools that precede it; the volatile part (today's date, the user's name, ids)
 * comes after the breakpoint and never invalidates the cache. Put nothing that
 * changes between requests into `stable`: one changed character is a cache miss.
 */
export function buildSystemBlocks(stable: string, volatile?: string): Anthropic.TextBlockParam[] {
  if (stable.trim() === '') throw new Error('the stable part of the system prompt is empty');
  const blocks: Anthropic.TextBlockParam[] = [{ type: 'text', text: stable, cache_control: { type: 'ephemeral' } }];
  if (volatile !== undefined && volatile.trim() !== '') blocks.push({ type: 'text', text: volatile });
  return blocks;
}

/** A plain string becomes one cached block; blocks are sent as given. */
export function systemBlocks(system: string | readonly Anthropic.TextBlockParam[]): Anthropic.TextBlockParam[] {
  return typeof system === 'string' ? buildSystemBlocks(system) : [...system];
}
