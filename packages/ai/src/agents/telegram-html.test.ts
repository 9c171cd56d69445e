import { toTelegramHtml } from './telegram-html';

describe('toTelegramHtml', () => {
  it.each([
    ['plain text', 'plain text'],
    ['<b>bold</b> and <i>italic</i>', '<b>bold</b> and <i>italic</i>'],
    ['profit < 0 & ROAS > 2', 'profit &lt; 0 &amp; ROAS &gt; 2'],
    ['Cups &amp; Saucers &#169; &lt;', 'Cups &amp; Saucers &#169; &lt;'],
    ['<b>unclosed', '<b>unclosed</b>'],
    ['<b><i>crossed</b></i>', '<b><i>crossed</i></b>'],
    ['stray </b> closer', 'stray  closer'],
    ['<h1>Title</h1><br>', '&lt;h1&gt;Title&lt;/h1&gt;&lt;br&gt;'],
    ['<a href="https://example.com/?a=1&b=2">link</a>', '<a href="https://example.com/?a=1&amp;b=2">link</a>'],
    ['<a href="javascript:alert(1)">x</a>', '&lt;a href="javascript:alert(1)"&gt;x'],
    ['<b onclick="x">bold</b>', '<b>bold</b>'],
    ['<span class="tg-spoiler">s</span> <span style="x">t</span>', '<span class="tg-spoiler">s</span> &lt;span style="x"&gt;t'],
    ['<pre><code class="language-ts">a <b> c</code></pre>', '<pre><code class="language-ts">a &lt;b&gt; c</code></pre>'],
    ['<blockquote expandable>q</blockquote>', '<blockquote expandable>q</blockquote>'],
  ])('when the model writes %j, then Telegram gets %j', (input, output) => {
    expect(toTelegramHtml(input)).toBe(output);
  });
});
