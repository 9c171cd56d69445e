import { escapeHtml } from '@dealdome/domain';

/**
 * Replies are Telegram HTML (parse_mode HTML). Every piece of data put into one
 * goes through `esc` (the domain's escapeHtml, which the outbound worker's splitter
 * understands): Telegram rejects the whole message on a stray `<`, and a product
 * called `Cups & <Saucers>` must arrive as written.
 */
export function esc(value: string | number | bigint): string {
  return escapeHtml(String(value));
}

/** Cuts text to `max` characters (before escaping), marking the cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Grouping of decimal strings lives beside the P&L message in the domain, which the digest shares. */
export { groupDigits } from '@dealdome/domain';
