/**
 * How `pnpm chat` shows Telegram messages in a terminal. The emulator hands out
 * messages as Telegram's clients receive them: the bot's HTML already parsed into
 * plain text plus entities (UTF-16 offsets), so rendering means applying those
 * entities — as ANSI styles on a terminal, not at all when the output is a file or
 * a pipe — and numbering the inline keyboard's buttons so they can be pressed by
 * typing a number.
 */

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
}

export interface KeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

export interface ChatMessage {
  message_id: number;
  date: number;
  edit_date?: number;
  from?: { id: number; is_bot: boolean; first_name: string; username?: string };
  chat: { id: number };
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  document?: { file_name?: string; file_size?: number; mime_type?: string };
  reply_markup?: { inline_keyboard?: KeyboardButton[][] };
}

/** A button as the chat lists it: numbered from 1 across the keyboard's rows, in reading order. */
export interface NumberedButton {
  number: number;
  row: number;
  text: string;
  callbackData?: string;
  url?: string;
}

// Each style has its own "off" code, so nested styles end independently (22 ends bold only).
const STYLES: Record<string, [on: string, off: string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  italic: ['\x1b[3m', '\x1b[23m'],
  underline: ['\x1b[4m', '\x1b[24m'],
  strikethrough: ['\x1b[9m', '\x1b[29m'],
  spoiler: ['\x1b[7m', '\x1b[27m'],
  code: ['\x1b[36m', '\x1b[39m'],
  pre: ['\x1b[36m', '\x1b[39m'],
  text_link: ['\x1b[4m', '\x1b[24m'],
  url: ['\x1b[4m', '\x1b[24m'],
};
const QUOTES = new Set(['blockquote', 'expandable_blockquote']);
const QUOTE_MARK = '│ ';

function at<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

/**
 * Message text with its entities applied. With `ansi`, styles become escape codes;
 * without, the text stays plain. Either way a text link keeps its address, written
 * after the linked words, and quoted lines are marked with a bar.
 */
export function renderText(text: string, entities: readonly MessageEntity[] = [], options: { ansi: boolean }): string {
  const opens = new Map<number, MessageEntity[]>();
  const closes = new Map<number, MessageEntity[]>();
  const ordered = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  for (const entity of ordered) {
    if (entity.length <= 0) continue;
    const end = Math.min(text.length, entity.offset + entity.length);
    at(opens, entity.offset).push(entity);
    // Closed in the reverse order of opening, so the innermost entity ends first.
    at(closes, end).unshift(entity);
  }
  // Counted per code, so an entity nested in one of its own kind does not end the outer one.
  const active = new Map<string, number>();
  let quoteDepth = 0;
  let out = '';
  const style = (entity: MessageEntity, opening: boolean) => {
    const codes = STYLES[entity.type];
    if (!options.ansi || !codes) return;
    const [on, off] = codes;
    const count = active.get(on) ?? 0;
    active.set(on, count + (opening ? 1 : -1));
    if (opening && count === 0) out += on;
    if (!opening && count === 1) out += off;
  };
  for (let i = 0; i <= text.length; i++) {
    for (const entity of closes.get(i) ?? []) {
      style(entity, false);
      if (entity.type === 'text_link' && entity.url) out += ` (${entity.url})`;
      if (QUOTES.has(entity.type)) quoteDepth -= 1;
    }
    if (i === text.length) break;
    for (const entity of opens.get(i) ?? []) {
      if (QUOTES.has(entity.type)) {
        if (quoteDepth === 0 && (i === 0 || text[i - 1] === '\n')) out += QUOTE_MARK;
        quoteDepth += 1;
      }
      style(entity, true);
    }
    const char = text[i]!;
    out += char;
    if (char === '\n' && quoteDepth > 0 && i + 1 < text.length) out += QUOTE_MARK;
  }
  return out;
}

/** The inline keyboard's buttons, numbered from 1 row by row. */
export function keyboardButtons(markup: ChatMessage['reply_markup']): NumberedButton[] {
  const buttons: NumberedButton[] = [];
  (markup?.inline_keyboard ?? []).forEach((row, rowIndex) => {
    for (const button of row) {
      buttons.push({
        number: buttons.length + 1,
        row: rowIndex,
        text: button.text,
        ...(typeof button.callback_data === 'string' ? { callbackData: button.callback_data } : {}),
        ...(typeof button.url === 'string' ? { url: button.url } : {}),
      });
    }
  });
  return buttons;
}

/** One line per keyboard row: `[1] Confirm  [2] Cancel`; a link button is marked with ↗. */
export function formatKeyboard(buttons: readonly NumberedButton[]): string[] {
  const rows: string[][] = [];
  for (const button of buttons) {
    (rows[button.row] ??= []).push(`[${button.number}] ${button.text}${button.url ? ' ↗' : ''}`);
  }
  return rows.filter((row) => row.length > 0).map((row) => row.join('  '));
}

const time = (epochSeconds: number) => new Date(epochSeconds * 1000).toTimeString().slice(0, 8);

function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * A message as a block of lines: who wrote it and when, then its text (or the file
 * it carries, with the caption) indented, then its buttons.
 */
export function renderMessage(
  message: ChatMessage,
  options: { ansi: boolean; edited?: boolean },
): string {
  const dim = (s: string) => (options.ansi ? `\x1b[2m${s}\x1b[22m` : s);
  const author = message.from ? message.from.first_name : 'channel';
  const header = `${options.ansi ? `\x1b[1m${author}\x1b[22m` : author} ${dim(`${time(message.edit_date ?? message.date)}${options.edited ? ' (edited)' : ''}`)}`;
  const body: string[] = [];
  if (message.document) {
    const { file_name: name = 'file', file_size: size } = message.document;
    body.push(dim(`[file: ${name}${size === undefined ? '' : `, ${fileSize(size)}`}]`));
  }
  if (message.text !== undefined) body.push(renderText(message.text, message.entities, options));
  if (message.caption !== undefined) body.push(renderText(message.caption, message.caption_entities, options));
  body.push(...formatKeyboard(keyboardButtons(message.reply_markup)));
  const indented = body.flatMap((block) => block.split('\n')).map((line) => (line === '' ? '' : `  ${line}`));
  return [header, ...indented].join('\n');
}
