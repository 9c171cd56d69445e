import { escapeHtml, escapeHtmlAttribute, telegramHtmlTags } from '@dealdome/domain';

/**
 * Replies are delivered as Telegram HTML, which refuses a whole message over one
 * stray `<` or an unclosed tag. The agents are asked to write that subset, and
 * what they write is made valid here before it is stored: allowed tags are kept
 * (with only the attributes Telegram reads), closed in order and closed at the end
 * when left open; anything else that looks like markup is escaped and shown as
 * written; `&` is escaped unless it starts an entity Telegram knows.
 */

const ALLOWED = new Set<string>(telegramHtmlTags);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*(\/?)>/g;
const ENTITY = /^&(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/;
const ATTRIBUTE = (name: string) => new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i');

function escapeText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '&') out += ENTITY.test(text.slice(i)) ? '&' : '&amp;';
    else if (c === '<') out += '&lt;';
    else if (c === '>') out += '&gt;';
    else out += c;
  }
  return out;
}

function attribute(attributes: string, name: string): string | undefined {
  const match = ATTRIBUTE(name).exec(attributes);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

/** The opening tag as Telegram should get it, or undefined when it must be shown as text. */
function openingTag(name: string, attributes: string): string | undefined {
  switch (name) {
    case 'a': {
      const href = attribute(attributes, 'href');
      if (!href || !/^(https?:\/\/|tg:\/\/|mailto:)/i.test(href)) return undefined;
      return `<a href="${escapeHtmlAttribute(href.replace(/&amp;/g, '&'))}">`;
    }
    case 'span':
      return attribute(attributes, 'class') === 'tg-spoiler' ? '<span class="tg-spoiler">' : undefined;
    case 'code': {
      const language = attribute(attributes, 'class');
      return language && /^language-[\w+#.-]{1,40}$/.test(language) ? `<code class="${language}">` : '<code>';
    }
    case 'blockquote':
      return /(?:^|\s)expandable(?:\s|=|$)/i.test(attributes) ? '<blockquote expandable>' : '<blockquote>';
    case 'tg-emoji': {
      const id = attribute(attributes, 'emoji-id');
      return id && /^\d{1,30}$/.test(id) ? `<tg-emoji emoji-id="${id}">` : undefined;
    }
    default:
      return `<${name}>`;
  }
}

export function toTelegramHtml(text: string): string {
  const open: string[] = [];
  let out = '';
  let last = 0;
  for (const match of text.matchAll(TAG)) {
    const [whole, slash, rawName, attributes = '', selfClosing] = match;
    const name = rawName!.toLowerCase();
    out += escapeText(text.slice(last, match.index));
    last = match.index + whole.length;
    // Inside <pre> and <code> everything is shown as written, except their own closing
    // tag and the <code class="language-…"> that may open a <pre>.
    const inside = open.at(-1);
    const verbatim =
      (inside === 'code' && !(slash && name === 'code')) ||
      (inside === 'pre' && !(slash && name === 'pre') && !(!slash && name === 'code' && out.endsWith('<pre>')));
    if (!ALLOWED.has(name) || selfClosing || verbatim) {
      out += escapeHtml(whole);
      continue;
    }
    if (slash) {
      const depth = open.lastIndexOf(name);
      if (depth < 0) continue; // a closing tag with nothing to close
      while (open.length > depth) out += `</${open.pop()!}>`;
      continue;
    }
    const tag = openingTag(name, attributes);
    if (!tag) {
      out += escapeHtml(whole);
      continue;
    }
    open.push(name);
    out += tag;
  }
  out += escapeText(text.slice(last));
  while (open.length) out += `</${open.pop()!}>`;
  return out;
}
