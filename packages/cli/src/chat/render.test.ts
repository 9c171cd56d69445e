import { parseTelegramHtml } from '@dealdome/testkit';
import { formatKeyboard, keyboardButtons, renderMessage, renderText } from './render';

const BOLD = '\x1b[1m';
const UNBOLD = '\x1b[22m';
const ITALIC = '\x1b[3m';
const UNITALIC = '\x1b[23m';

/** The bot's HTML as the emulator stores it: parsed into text and entities, as Telegram does. */
const render = (html: string, ansi: boolean) => {
  const { text, entities } = parseTelegramHtml(html);
  return renderText(text, entities, { ansi });
};

describe('chat rendering', () => {
  it('when the output is a terminal, then bold and italic become ANSI styles and escaped characters read as themselves', () => {
    expect(render('<b>P&amp;L</b> for <i>7 days</i>: 1 200.00 EUR &lt; target', true)).toBe(
      `${BOLD}P&L${UNBOLD} for ${ITALIC}7 days${UNITALIC}: 1 200.00 EUR < target`,
    );
  });

  it('when the output is not a terminal, then the text is plain, with no escape codes and no tags', () => {
    expect(render('<b>P&amp;L</b> <i>ok</i> <code>x</code>', false)).toBe('P&L ok x');
  });

  it('when styles nest, then ending the inner one keeps the outer one on until its end', () => {
    expect(render('<b>all <b>of</b> it</b> <b>x <i>y</i></b>', true)).toBe(
      `${BOLD}all of it${UNBOLD} ${BOLD}x ${ITALIC}y${UNITALIC}${UNBOLD}`,
    );
  });

  it('when text holds characters beyond the BMP, then entity offsets (UTF-16) still land on the right words', () => {
    expect(render('📈 <b>Revenue</b> up', true)).toBe(`📈 ${BOLD}Revenue${UNBOLD} up`);
  });

  it('when a link has its own words, then the address is written after them; a quote is marked line by line', () => {
    expect(render('see <a href="https://example.com/docs">the docs</a>', false)).toBe('see the docs (https://example.com/docs)');
    expect(render('<blockquote>one\ntwo</blockquote>\nafter', false)).toBe('│ one\n│ two\nafter');
  });

  it('when a keyboard has rows, then buttons are numbered from 1 in reading order and listed one row per line', () => {
    const buttons = keyboardButtons({
      inline_keyboard: [
        [{ text: '1. Packaging supplier', callback_data: 'forget:pick:a' }],
        [
          { text: 'Confirm', callback_data: 'ok' },
          { text: 'Cancel', callback_data: 'no' },
        ],
        [{ text: 'Docs', url: 'https://example.com' }],
      ],
    });

    expect(buttons.map((b) => [b.number, b.text, b.callbackData ?? b.url])).toEqual([
      [1, '1. Packaging supplier', 'forget:pick:a'],
      [2, 'Confirm', 'ok'],
      [3, 'Cancel', 'no'],
      [4, 'Docs', 'https://example.com'],
    ]);
    expect(formatKeyboard(buttons)).toEqual(['[1] 1. Packaging supplier', '[2] Confirm  [3] Cancel', '[4] Docs ↗']);
  });

  it('when a message is rendered, then its author heads it and its text and buttons follow indented', () => {
    const lines = renderMessage(
      {
        message_id: 4,
        date: 1_767_225_600,
        from: { id: 1, is_bot: true, first_name: 'DealDome' },
        chat: { id: 1001 },
        text: 'Forget this?\nIt cannot be undone.',
        reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'y' }, { text: 'No', callback_data: 'n' }]] },
      },
      { ansi: false, edited: true },
    ).split('\n');

    expect(lines[0]).toMatch(/^DealDome \d\d:\d\d:\d\d \(edited\)$/);
    expect(lines.slice(1)).toEqual(['  Forget this?', '  It cannot be undone.', '  [1] Yes  [2] No']);
  });
});
