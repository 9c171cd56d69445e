/**
 * Telegram's parse_mode=HTML, as its server (tdlib's parse_html) applies it: the
 * same accepted tags and the same error texts with UTF-8 byte offsets, so a bot
 * that formats a reply wrongly fails here the way it would fail in production.
 * Entities come back with UTF-16 offsets, as Telegram reports them.
 */

export interface TelegramEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
  user?: { id: number };
}

export class TelegramParseError extends Error {}

const TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'span',
  'pre',
  'code',
  'blockquote',
]);

const NAMED_ENTITIES: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22, apos: 0x27 };

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const EQUALS = 0x3d;

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) =>
  isDigit(c) || (c !== undefined && ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)));
const isAlpha = (c: number | undefined) => c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));

/** `&...;` at `pos` as a code point, or undefined when it is no entity (then `&` stays as text, as in Telegram). */
function decodeEntity(bytes: Buffer, pos: number): { codePoint: number; end: number } | undefined {
  let end = pos + 1;
  let codePoint = 0;
  if (bytes[end] === 0x23) {
    end += 1;
    const hex = bytes[end] === 0x78;
    if (hex) end += 1;
    const digitsStart = end;
    while (hex ? isHex(bytes[end]) : isDigit(bytes[end])) end += 1;
    if (end === digitsStart || end - pos >= 10) return undefined;
    codePoint = Number.parseInt(bytes.subarray(digitsStart, end).toString('latin1'), hex ? 16 : 10);
    if (codePoint === 0 || codePoint >= 0x10ffff) return undefined;
  } else {
    while (isAlpha(bytes[end])) end += 1;
    const named = NAMED_ENTITIES[bytes.subarray(pos + 1, end).toString('latin1')];
    if (named === undefined) return undefined;
    codePoint = named;
  }
  if (bytes[end] === 0x3b) end += 1;
  return { codePoint, end };
}

interface OpenTag {
  name: string;
  argument: string;
  offset: number;
  textStart: number;
}

export interface ParsedHtml {
  text: string;
  entities: TelegramEntity[];
}

/**
 * Parses `html` or throws TelegramParseError with Telegram's message (without
 * the "Bad Request: can't parse entities: " prefix the API adds).
 * `strictAmpersand` also rejects a bare `&` that starts no entity; Telegram keeps
 * one as text, so this is the fake's own check for missing escaping.
 */
export function parseTelegramHtml(html: string, options: { strictAmpersand?: boolean } = {}): ParsedHtml {
  const bytes = Buffer.from(html, 'utf8');
  let text = '';
  let utf16 = 0;
  const entities: TelegramEntity[] = [];
  const open: OpenTag[] = [];
  const append = (chunk: string) => {
    text += chunk;
    utf16 += chunk.length;
  };

  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === AMP) {
      const decoded = decodeEntity(bytes, i);
      if (decoded) {
        if (decoded.codePoint >= 0xd800 && decoded.codePoint <= 0xdfff) {
          throw new TelegramParseError(
            'Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units',
          );
        }
        append(String.fromCodePoint(decoded.codePoint));
        i = decoded.end;
        continue;
      }
      if (options.strictAmpersand) {
        throw new TelegramParseError(`Unescaped "&" at byte offset ${i} (the fake's strict mode; Telegram keeps it as text)`);
      }
    }
    if (c !== LT) {
      let end = i + 1;
      while (end < bytes.length && bytes[end] !== LT && bytes[end] !== AMP) end += 1;
      append(bytes.subarray(i, end).toString('utf8'));
      i = end;
      continue;
    }

    const begin = i;
    i += 1;
    if (bytes[i] !== SLASH) {
      while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== GT) i += 1;
      if (i >= bytes.length) throw new TelegramParseError(`Unclosed start tag at byte offset ${begin}`);
      const name = bytes
        .subarray(begin + 1, i)
        .toString('utf8')
        .toLowerCase();
      if (!TAGS.has(name)) throw new TelegramParseError(`Unsupported start tag "${name}" at byte offset ${begin}`);
      let argument = '';
      while (bytes[i] !== GT) {
        while (isSpace(bytes[i])) i += 1;
        if (bytes[i] === GT) break;
        const attributeBegin = i;
        while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== EQUALS && bytes[i] !== GT) i += 1;
        const attribute = bytes.subarray(attributeBegin, i).toString('utf8').toLowerCase();
        if (attribute.length === 0) {
          throw new TelegramParseError(`Empty attribute name in the tag "${name}" at byte offset ${attributeBegin}`);
        }
        while (isSpace(bytes[i])) i += 1;
        if (i >= bytes.length) throw new TelegramParseError(`Unclosed start tag "${name}" at byte offset ${begin}`);
        if (name === 'blockquote' && attribute === 'expandable' && bytes[i] !== EQUALS) continue;
        if (bytes[i] !== EQUALS) {
          throw new TelegramParseError(
            `Expected equal sign in declaration of an attribute of the tag "${name}" at byte offset ${attributeBegin}`,
          );
        }
        i += 1;
        while (isSpace(bytes[i])) i += 1;
        if (i >= bytes.length) throw new TelegramParseError(`Unclosed start tag "${name}" at byte offset ${begin}`);
        let value = '';
        const quote = bytes[i];
        if (quote !== 0x22 && quote !== 0x27) {
          const tokenBegin = i;
          while (isAlpha(bytes[i]) || isDigit(bytes[i]) || bytes[i] === 0x2e || bytes[i] === 0x2d) i += 1;
          value = bytes.subarray(tokenBegin, i).toString('utf8').toLowerCase();
          if (!isSpace(bytes[i]) && bytes[i] !== GT) {
            throw new TelegramParseError(`Unexpected end of name token at byte offset ${tokenBegin}`);
          }
        } else {
          i += 1;
          while (i < bytes.length && bytes[i] !== quote) {
            const decoded = bytes[i] === AMP ? decodeEntity(bytes, i) : undefined;
            if (decoded) {
              value += String.fromCodePoint(decoded.codePoint);
              i = decoded.end;
            } else {
              let end = i + 1;
              while (end < bytes.length && bytes[end] !== quote && bytes[end] !== AMP) end += 1;
              value += bytes.subarray(i, end).toString('utf8');
              i = end;
            }
          }
          if (bytes[i] === quote) i += 1;
        }
        if (i >= bytes.length) throw new TelegramParseError(`Unclosed start tag at byte offset ${begin}`);
        if (name === 'a' && attribute === 'href') argument = value;
        else if (name === 'code' && attribute === 'class' && value.startsWith('language-')) argument = value.slice(9);
        else if (name === 'span' && attribute === 'class' && value.startsWith('tg-')) argument = value.slice(3);
        else if (name === 'tg-emoji' && attribute === 'emoji-id') argument = value;
      }
      if (name === 'span' && argument !== 'spoiler') {
        throw new TelegramParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${begin}`);
      }
      open.push({ name, argument, offset: utf16, textStart: text.length });
    } else {
      const top = open.at(-1);
      if (!top) throw new TelegramParseError(`Unexpected end tag at byte offset ${begin}`);
      i += 1;
      const nameBegin = i;
      while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== GT) i += 1;
      const name = bytes.subarray(nameBegin, i).toString('utf8').toLowerCase();
      while (isSpace(bytes[i])) i += 1;
      if (bytes[i] !== GT) throw new TelegramParseError(`Unclosed end tag at byte offset ${begin}`);
      if (name.length > 0 && name !== top.name) {
        throw new TelegramParseError(`Unmatched end tag at byte offset ${begin}, expected "</${top.name}>", found "</${name}>"`);
      }
      open.pop();
      const length = utf16 - top.offset;
      if (length > 0) entities.push(...entityFor(top, length, text.slice(top.textStart), entities));
    }
    i += 1;
  }
  const unclosed = open.at(-1);
  if (unclosed) throw new TelegramParseError(`Can't find end tag corresponding to start tag ${unclosed.name}`);
  return { text, entities: entities.sort((a, b) => a.offset - b.offset || b.length - a.length) };
}

function entityFor(tag: OpenTag, length: number, innerText: string, earlier: TelegramEntity[]): TelegramEntity[] {
  const at = { offset: tag.offset, length };
  switch (tag.name) {
    case 'b':
    case 'strong':
      return [{ type: 'bold', ...at }];
    case 'i':
    case 'em':
      return [{ type: 'italic', ...at }];
    case 'u':
    case 'ins':
      return [{ type: 'underline', ...at }];
    case 's':
    case 'strike':
    case 'del':
      return [{ type: 'strikethrough', ...at }];
    case 'tg-spoiler':
    case 'span':
      return [{ type: 'spoiler', ...at }];
    case 'blockquote':
      return [{ type: 'blockquote', ...at }];
    case 'tg-emoji':
      return [{ type: 'custom_emoji', ...at, custom_emoji_id: tag.argument }];
    case 'a': {
      const url = tag.argument || innerText;
      const mention = /^tg:\/\/user\?id=(\d+)$/.exec(url);
      if (mention) return [{ type: 'text_mention', ...at, user: { id: Number(mention[1]) } }];
      const link = normaliseLink(url);
      return link ? [{ type: 'text_link', ...at, url: link }] : [];
    }
    case 'code': {
      // <pre><code class="language-x"> is one pre entity with a language.
      const pre = earlier.findIndex((e) => e.type === 'pre' && e.offset === tag.offset && e.length === length);
      if (tag.argument && pre >= 0) {
        earlier.splice(pre, 1);
        return [{ type: 'pre', ...at, language: tag.argument }];
      }
      return [{ type: 'code', ...at, ...(tag.argument ? { language: tag.argument } : {}) }];
    }
    case 'pre': {
      const code = earlier.findIndex((e) => e.type === 'code' && e.offset === tag.offset && e.length === length);
      if (code >= 0) {
        const [inner] = earlier.splice(code, 1);
        return [{ type: 'pre', ...at, ...(inner?.language ? { language: inner.language } : {}) }];
      }
      return [{ type: 'pre', ...at }];
    }
    default:
      return [];
  }
}

/** A link as Telegram stores it (a bare host gains http://), or undefined when it is none. */
function normaliseLink(url: string): string | undefined {
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(url);
  try {
    const parsed = new URL(hasScheme ? url : `http://${url}`);
    if (!hasScheme && !parsed.hostname.includes('.')) return undefined;
    return hasScheme ? url : parsed.toString();
  } catch {
    return undefined;
  }
}

/** Telegram's `bot_command` entities: `/word` (optionally `@bot`) at the start or after a space. */
export function commandEntities(text: string): TelegramEntity[] {
  const entities: TelegramEntity[] = [];
  for (const match of text.matchAll(/(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s)/g)) {
    const command = match[2] ?? '';
    entities.push({ type: 'bot_command', offset: (match.index ?? 0) + (match[1]?.length ?? 0), length: command.length });
  }
  return entities;
}
