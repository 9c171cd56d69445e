import { escapeHtml, escapeHtmlAttribute, fmt, html } from '@dealdome/domain';
import { parseTelegramHtml } from '@dealdome/testkit';
import { htmlToPlainText, splitTelegramHtml } from '../src/outbound';

/** What Telegram would show for a part (and throws where Telegram would refuse it). */
const visible = (part: string) => parseTelegramHtml(part).text;

const paragraph = (n: number, length: number) => `Paragraph ${n}: ${'word '.repeat(length / 5)}`.slice(0, length).trim();

describe('splitting Telegram HTML', () => {
  it('when a text fits one message, then it is one part, unchanged', () => {
    expect(splitTelegramHtml('<b>Hello</b> &amp; welcome')).toEqual([{ html: '<b>Hello</b> &amp; welcome', plain: 'Hello & welcome' }]);
  });

  it('when a text is long, then every part parses and holds at most the limit of visible characters', () => {
    const text = Array.from({ length: 25 }, (_, i) => paragraph(i, 400)).join('\n\n');
    const parts = splitTelegramHtml(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(visible(part.html).length).toBeLessThanOrEqual(4096);
    // Cut at paragraph breaks: every part starts with a paragraph and nothing is lost but the breaks.
    for (const part of parts) expect(part.html).toMatch(/^Paragraph \d+:/);
    expect(parts.map((p) => p.plain).join('\n\n')).toBe(text);
  });

  it('when there is no paragraph break in reach, then it cuts at a line break, then at a space', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(30)}`).join('\n');
    const byLine = splitTelegramHtml(lines, 200);
    for (const part of byLine) expect(part.plain).toMatch(/^line \d+ x+(\nline \d+ x+)*$/);

    const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const byWord = splitTelegramHtml(words, 50);
    expect(byWord.map((p) => p.plain).join(' ')).toBe(words);
    for (const part of byWord) expect(part.plain.length).toBeLessThanOrEqual(50);
  });

  it('when a formatted span crosses a cut, then it is closed in one part and opened again in the next', () => {
    const text = `<b>${'bold words '.repeat(30)}</b><a href="https://example.com/?a=1&amp;b=2">${'link '.repeat(20)}</a>`;
    const parts = splitTelegramHtml(text, 120);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      const parsed = parseTelegramHtml(part.html);
      expect(parsed.text.length).toBeLessThanOrEqual(120);
      expect(parsed.entities.length).toBeGreaterThan(0);
    }
    expect(parts[0]?.html.startsWith('<b>')).toBe(true);
    expect(parts[1]?.html.startsWith('<b>')).toBe(true);
    expect(parts.at(-1)?.html).toMatch(/^<a href="https:\/\/example.com\/\?a=1&amp;b=2">.*<\/a>$/);
  });

  it('when entities are dense, then they count as one character each and are never cut', () => {
    const text = '&lt;&amp;&gt;'.repeat(300);
    const parts = splitTelegramHtml(text, 100);
    for (const part of parts) {
      expect(visible(part.html).length).toBeLessThanOrEqual(100);
      expect(part.html).toMatch(/^(&lt;|&amp;|&gt;)+$/);
    }
    expect(parts.map((p) => p.plain).join('')).toBe('<&>'.repeat(300));
  });

  it('when characters lie outside the BMP, then they count as two and a pair is never cut', () => {
    const text = '😀'.repeat(60);
    const parts = splitTelegramHtml(text, 25);
    for (const part of parts) {
      expect(part.plain.length).toBeLessThanOrEqual(25);
      expect([...part.plain].every((c) => c === '😀')).toBe(true);
    }
    expect(parts.map((p) => p.plain).join('')).toBe(text);
  });

  it('when the same text is split twice, then the parts are the same', () => {
    const text = Array.from({ length: 50 }, (_, i) => `<i>item</i> ${i} ${'é'.repeat(i)}`).join('\n');
    expect(splitTelegramHtml(text, 300)).toEqual(splitTelegramHtml(text, 300));
  });

  it('when a text holds markup Telegram does not know, then the plain version keeps it as written', () => {
    expect(htmlToPlainText('Press <Enter> in <b>bold</b> &amp; 3 < 4')).toBe('Press <Enter> in bold & 3 < 4');
  });
});

describe('formatting messages', () => {
  it('when data holds <, > and &, then they are escaped and Telegram shows them as written', () => {
    const name = 'Cups & <Saucers> "Deluxe"';
    expect(escapeHtml(name)).toBe('Cups &amp; &lt;Saucers&gt; "Deluxe"');
    expect(escapeHtmlAttribute(name)).toBe('Cups &amp; &lt;Saucers&gt; &quot;Deluxe&quot;');
    const message = fmt.lines(
      fmt.bold(name),
      html`Sold ${3} units of ${name}`,
      fmt.code('a < b && c > d'),
      fmt.pre('if (a < b) {}', 'ts'),
      fmt.link('shop & more', 'https://example.com/?q=a&b="c"'),
      false,
    );
    const parsed = parseTelegramHtml(message.html, { strictAmpersand: true });
    expect(parsed.text).toBe(
      [name, `Sold 3 units of ${name}`, 'a < b && c > d', 'if (a < b) {}', 'shop & more'].join('\n'),
    );
    expect(parsed.entities.map((e) => e.type)).toEqual(['bold', 'code', 'pre', 'text_link']);
    expect(parsed.entities.find((e) => e.type === 'text_link')?.url).toBe('https://example.com/?q=a&b="c"');
  });
});
