/**
 * Replies are Telegram HTML (parse_mode HTML). Every piece of data put into one
 * goes through `esc`: Telegram rejects the whole message on a stray `<`, and a
 * product called `Cups & <Saucers>` must arrive as written.
 */
export function esc(value: string | number | bigint): string {
  // Quotes need escaping only inside attributes, and replies put no data there.
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters (before escaping), marking the cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** 1234567.5 → "1,234,567.50": grouping for a decimal string, without a float. */
export function groupDigits(decimal: string): string {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}
