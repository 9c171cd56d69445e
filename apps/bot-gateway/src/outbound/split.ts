import { telegramHtmlTags } from '@dealdome/domain';

/**
 * Splitting Telegram HTML into messages Telegram accepts. Telegram counts a text's
 * length after entity parsing — the visible text — and refuses more than 4096. This
 * counts UTF-16 code units of the visible text (what Telegram's offsets use, and never
 * fewer than the characters a user sees), so the count is on the safe side.
 *
 * The split is a pure function of the text: a retried delivery splits it the same way
 * and skips the parts already recorded as sent.
 */

export const TELEGRAM_MESSAGE_LIMIT = 4096;

export interface MessagePart {
  /** Telegram HTML, with tags that span the split closed here and opened again in the next part. */
  html: string;
  /** The same part as plain text (tags dropped, entities decoded), for when Telegram refuses the HTML. */
  plain: string;
}

type Unit =
  /** A visible character, an entity (`raw` "&amp;", `visible` "&"), or text that only looks like markup. */
  | { kind: 'text'; raw: string; visible: string }
  | { kind: 'open'; raw: string; name: string }
  | { kind: 'close'; raw: string; name: string };

const TAGS = new Set<string>(telegramHtmlTags);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY = /&(#[0-9]{1,8}|#x[0-9a-fA-F]{1,7}|[a-zA-Z]+);?/y;

/** An entity as Telegram decodes it (the `;` is optional there), or undefined when `&` starts none. */
function entityAt(text: string, at: number): { raw: string; visible: string } | undefined {
  ENTITY.lastIndex = at;
  const match = ENTITY.exec(text);
  const body = match?.[1];
  if (!match || body === undefined) return undefined;
  if (!body.startsWith('#')) {
    const named = NAMED_ENTITIES[body];
    return named === undefined ? undefined : { raw: match[0], visible: named };
  }
  const codePoint = body.startsWith('#x') ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
  if (codePoint === 0 || codePoint >= 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
  return { raw: match[0], visible: String.fromCodePoint(codePoint) };
}

/** A start or end tag of Telegram's subset at `at` (attribute values may be quoted and hold `>`). */
function tagAt(text: string, at: number): Unit | undefined {
  let i = at + 1;
  const closing = text[i] === '/';
  if (closing) i += 1;
  const nameStart = i;
  while (i < text.length && /[A-Za-z0-9-]/.test(text[i] ?? '')) i += 1;
  const name = text.slice(nameStart, i).toLowerCase();
  if (!TAGS.has(name)) return undefined;
  let quote: string | undefined;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      const raw = text.slice(at, i + 1);
      return closing ? { kind: 'close', raw, name } : { kind: 'open', raw, name };
    } else if (c === '<') {
      return undefined;
    }
  }
  return undefined;
}

function tokenize(html: string): Unit[] {
  const units: Unit[] = [];
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === '<') {
      const tag = tagAt(html, i);
      if (tag) {
        units.push(tag);
        i += tag.raw.length;
        continue;
      }
    } else if (c === '&') {
      const entity = entityAt(html, i);
      if (entity) {
        units.push({ kind: 'text', ...entity });
        i += entity.raw.length;
        continue;
      }
    }
    // One code point, so a surrogate pair is never cut in two.
    const char = String.fromCodePoint(html.codePointAt(i) ?? 0);
    units.push({ kind: 'text', raw: char, visible: char });
    i += char.length;
  }
  return units;
}

const isSpace = (u: Unit | undefined) => u?.kind === 'text' && /^\s+$/.test(u.visible);

/** The tags still open after `units[from, to)`, given those open at `from`. */
function openTagsAfter(units: Unit[], from: number, to: number, open: Unit[]): Unit[] {
  const stack = [...open];
  for (let i = from; i < to; i++) {
    const u = units[i];
    if (u?.kind === 'open') stack.push(u);
    else if (u?.kind === 'close') {
      const top = stack.at(-1);
      // A mismatched end tag is left alone: Telegram refuses the part and it goes as plain text.
      if (top?.kind === 'open' && top.name === u.name) stack.pop();
    }
  }
  return stack;
}

/**
 * Where to end the part that may run up to `end`: the index of a whitespace unit
 * (the part ends before it), or undefined when the window has no boundary at all.
 */
function chooseCut(units: Unit[], start: number, end: number, limit: number): number | undefined {
  let visible = 0;
  let seenText = false;
  // Each boundary kind's last index in the window and the visible length before it.
  let paragraph: [number, number] | undefined;
  let line: [number, number] | undefined;
  let word: [number, number] | undefined;
  let run: { start: number; visible: number; newlines: number } | undefined;
  for (let i = start; i < end; i++) {
    const u = units[i];
    if (u?.kind !== 'text') continue;
    if (!isSpace(u)) {
      seenText = true;
      run = undefined;
      visible += u.visible.length;
      continue;
    }
    if (!seenText) continue;
    run ??= { start: i, visible, newlines: 0 };
    if (u.visible.includes('\n')) {
      run.newlines += 1;
      if (run.newlines >= 2) paragraph = [run.start, run.visible];
      else line = [i, visible];
    } else {
      word = [i, visible];
    }
    visible += u.visible.length;
  }
  const kinds = [paragraph, line, word].filter((k): k is [number, number] => k !== undefined);
  // The coarsest boundary that still fills half a message; else the last boundary of any kind.
  const full = kinds.find(([, before]) => before >= limit / 2);
  if (full) return full[0];
  return kinds.length > 0 ? Math.max(...kinds.map(([at]) => at)) : undefined;
}

function renderPart(units: Unit[], from: number, to: number, open: Unit[]): MessagePart | undefined {
  // Whitespace at either end is dropped (Telegram trims it anyway); tags there are kept.
  let first = from;
  while (first < to && (units[first]?.kind !== 'text' || isSpace(units[first]))) first += 1;
  let last = to;
  while (last > first && (units[last - 1]?.kind !== 'text' || isSpace(units[last - 1]))) last -= 1;
  if (first >= last) return undefined;
  let html = open.map((u) => u.raw).join('');
  let plain = '';
  for (let i = from; i < to; i++) {
    const u = units[i];
    if (!u) continue;
    if (u.kind === 'text') {
      if (i < first || i >= last) continue;
      html += u.raw;
      plain += u.visible;
    } else {
      html += u.raw;
    }
  }
  const stillOpen = openTagsAfter(units, from, to, open);
  html += stillOpen
    .map((u) => `</${(u as { name: string }).name}>`)
    .reverse()
    .join('');
  return { html, plain };
}

/**
 * Splits Telegram HTML into parts of at most `limit` visible characters, cutting at
 * the last paragraph break (an empty line), else line break, else space that leaves
 * a part at least half full; failing that at any of them; failing that between two
 * characters. Never inside a tag or an entity. Tags open at a cut are closed at the
 * end of the part and opened again at the start of the next one.
 */
export function splitTelegramHtml(html: string, limit = TELEGRAM_MESSAGE_LIMIT): MessagePart[] {
  if (limit < 16) throw new Error('a message limit below 16 characters makes no sense');
  const units = tokenize(html);
  const parts: MessagePart[] = [];
  let start = 0;
  let open: Unit[] = [];
  while (start < units.length) {
    // The first index past `limit` visible characters (leading whitespace not counted).
    let visible = 0;
    let seenText = false;
    let end = start;
    for (; end < units.length; end++) {
      const u = units[end];
      if (u?.kind !== 'text') continue;
      if (!seenText && isSpace(u)) continue;
      seenText = true;
      if (visible + u.visible.length > limit) break;
      visible += u.visible.length;
    }
    const cut = end >= units.length ? units.length : Math.max(chooseCut(units, start, end, limit) ?? end, start + 1);
    const part = renderPart(units, start, cut, open);
    if (part) parts.push(part);
    open = openTagsAfter(units, start, cut, open);
    start = cut;
  }
  return parts;
}

/** The visible text of Telegram HTML: tags of Telegram's subset dropped, entities decoded, anything else kept as written. */
export function htmlToPlainText(html: string): string {
  return tokenize(html)
    .map((u) => (u.kind === 'text' ? u.visible : ''))
    .join('');
}
