import { AppError, Decimal, TRANSCRIPT_CHUNK_DEFAULTS, chunkTranscript, parseTranscript, transcriptDuration } from '../src';
import type { TranscriptCue } from '../src';

/** The AppError a call throws, so a test can look at its status and message. */
function errorOf(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

const srtTime = (ms: number) => {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
};

describe('parseTranscript', () => {
  it('when an SRT has a BOM, CRLF, odd numbering, extra blank lines and hours, then every cue is read with exact times', () => {
    const srt =
      '\uFEFF1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Welcome</i> to the\r\nweekly   numbers.\r\n\r\n\r\n\r\n' +
      '7\r\n00:12:34,500 --> 00:12:36,040\r\nRevenue is {\\an8}up.\r\n\r\n' +
      '00:59:59,999 --> 01:02:03,040\r\nNo number on this one.\r\n' +
      '12\r\n01:02:03,040 --> 01:02:05,000 X1:10 X2:20\r\n<font color="#ff0">Hours</font> above one.\r\n\r\n';
    expect(parseTranscript('srt', srt)).toEqual([
      { start: '1', end: '3.5', text: 'Welcome to the weekly numbers.' },
      { start: '754.5', end: '756.04', text: 'Revenue is up.' },
      { start: '3599.999', end: '3723.04', text: 'No number on this one.' },
      { start: '3723.04', end: '3725', text: 'Hours above one.' },
    ]);
  });

  it('when an SRT cue has a blank line inside its text or a number without its timing, then no words are lost', () => {
    const srt = '1\n00:00:01,000 --> 00:00:02,000\nFirst part\n\nsecond part.\n\n2\n\n00:00:03,000 --> 00:00:04,000\nNext.\n';
    expect(parseTranscript('srt', srt)).toEqual([
      { start: '1', end: '2', text: 'First part second part.' },
      { start: '3', end: '4', text: 'Next.' },
    ]);
  });

  it('when an SRT is loosely written, then its times are still read exactly', () => {
    const srt = '00:00:00,100-->00:00:00,300\nNo spaces round the arrow.\n\n0:00:07.5 --> 0:00:08,25\nA dot, short fractions.\n\n1\n00:00:09,000 --> 00:00:09,000\n\n';
    expect(parseTranscript('srt', srt)).toEqual([
      { start: '0.1', end: '0.3', text: 'No spaces round the arrow.' },
      { start: '7.5', end: '8.25', text: 'A dot, short fractions.' },
    ]);
  });

  it('when a WebVTT has header text, NOTE, STYLE and REGION blocks, identifiers, settings, tags and entities, then only the spoken text remains', () => {
    const vtt = [
      'WEBVTT - Weekly sync',
      'Kind: captions',
      'Language: en',
      '',
      'NOTE',
      'Exported from the meeting tool.',
      '',
      'STYLE',
      '::cue { color: yellow }',
      '',
      'REGION',
      'id:fred width:40%',
      '',
      '1',
      '00:00:01.000 --> 00:00:04.250 align:start position:10%',
      '<v Ana>We moved the &amp; Rotterdam stock &lt;today&gt;.</v>',
      '',
      'NOTE one more comment',
      '',
      'intro-2',
      '00:05.500 --> 00:09.000',
      '<v.loud Bo>Good.</v> <c.yellow>Next</c>',
      '<00:00:06.000>item&nbsp;please, &amp;lt;literal&amp;gt; &#233;&#x2014;&unknown;',
      '',
      '01:02:03.040 --> 01:02:05.500 line:0',
      'Hours above one.',
    ].join('\n');
    expect(parseTranscript('vtt', vtt)).toEqual([
      { start: '1', end: '4.25', text: 'We moved the & Rotterdam stock <today>.' },
      { start: '5.5', end: '9', text: 'Good. Next item please, &lt;literal&gt; é—&unknown;' },
      { start: '3723.04', end: '3725.5', text: 'Hours above one.' },
    ]);
  });

  it('when a plain-text transcript has paragraphs, then each paragraph is a cue on one line with no times', () => {
    const txt = '\uFEFFWe opened the Rotterdam\r\nwarehouse in May.\r\n\r\n\r\n   \r\nMargins went   up.\r\n';
    expect(parseTranscript('txt', txt)).toEqual([
      { start: null, end: null, text: 'We opened the Rotterdam warehouse in May.' },
      { start: null, end: null, text: 'Margins went up.' },
    ]);
  });

  it.each([
    { input: 'an empty transcript', format: 'txt' as const, text: ' \r\n\n', line: 1, problem: /empty/ },
    { input: 'an SRT with no cue', format: 'srt' as const, text: '\n\nThis is not a subtitle file.\n', line: 3, problem: /expected a cue number or a timing/ },
    { input: 'an SRT with numbers only', format: 'srt' as const, text: '1\n\n2\n', line: 3, problem: /without a cue/ },
    {
      input: 'a cue that ends before it starts',
      format: 'srt' as const,
      text: '1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\n00:00:05,000 --> 00:00:04,000\nBackwards.\n',
      line: 6,
      problem: /ends \(00:00:04,000\) before it starts \(00:00:05,000\)/,
    },
    {
      input: 'an unreadable timing',
      format: 'srt' as const,
      text: '1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\n00:00:03,000 --> 00:00:61,000\nNo.\n',
      line: 6,
      problem: /"00:00:61,000" is not a time/,
    },
    {
      input: 'a cue earlier than the one above it',
      format: 'srt' as const,
      text: '00:01:00,000 --> 00:01:02,000\nLater.\n\n00:00:03,000 --> 00:00:04,000\nEarlier.\n',
      line: 4,
      problem: /time order/,
    },
    { input: 'a WebVTT without its header', format: 'vtt' as const, text: '00:00:01.000 --> 00:00:02.000\nHi.\n', line: 1, problem: /starts with "WEBVTT"/ },
    { input: 'a WebVTT header run into its name', format: 'vtt' as const, text: 'WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nHi.\n', line: 1, problem: /starts with "WEBVTT"/ },
    { input: 'a WebVTT with a header only', format: 'vtt' as const, text: 'WEBVTT\n\nNOTE nothing here\n', line: 3, problem: /without a cue/ },
  ])('when the input is $input, then a 400 names line $line', ({ format, text, line, problem }) => {
    const err = errorOf(() => parseTranscript(format, text));
    expect(err).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(err.message).toMatch(new RegExp(`^Line ${line} of the transcript: `));
    expect(err.message).toMatch(problem);
    expect(err.fieldErrors).toEqual({ transcript: [err.message] });
  });
});

/** `count` cues of `length` characters, 4 s apart starting at 0, each lasting 3.5 s. */
function timedCues(count: number, length: number): TranscriptCue[] {
  return Array.from({ length: count }, (_, i) => ({
    start: new Decimal(i).times(4).toFixed(),
    end: new Decimal(i).times(4).plus('3.5').toFixed(),
    text: `Cue ${i} says`.padEnd(length - 1, ' x').slice(0, length - 1) + '.',
  }));
}

describe('chunkTranscript', () => {
  it('when cues overlap, then a chunk ends with the latest end among its cues, not the last cue\'s', () => {
    const srt = ['1', '00:00:01,000 --> 00:00:10,000', 'A long cue spoken over.', '', '2', '00:00:02,000 --> 00:00:03,000', 'A short aside.', ''].join('\n');
    const [chunk] = chunkTranscript(parseTranscript('srt', srt));
    expect(chunk).toMatchObject({ startSeconds: '1', endSeconds: '10' });
  });

  it('when cues are chunked with the defaults, then chunks stay within bounds, overlap by whole cues and carry their cues’ times', () => {
    const cues = timedCues(300, 79);
    const chunks = chunkTranscript(cues);
    expect(chunks.length).toBeGreaterThan(1);
    chunks.forEach((chunk, i) => {
      expect(chunk.index).toBe(i);
      expect(chunk.tokenCount).toBe(Math.ceil(chunk.content.length / 4));
      expect(chunk.tokenCount).toBeLessThanOrEqual(TRANSCRIPT_CHUNK_DEFAULTS.maxTokens);
      const first = cues.find((c) => chunk.content.startsWith(c.text))!;
      const last = cues.find((c) => chunk.content.endsWith(c.text))!;
      expect(chunk.startSeconds).toBe(first.start);
      expect(chunk.endSeconds).toBe(last.end);
    });
    // Every chunk but the last aims at 600: 30 cues of 20 tokens each (79 characters and a space).
    for (const chunk of chunks.slice(0, -1)) expect(chunk.tokenCount).toBe(600);
    // The next chunk opens with the last 4 cues (80 tokens) of the one before.
    for (let i = 1; i < chunks.length; i++) {
      const repeated = chunks[i - 1]!.content.slice(-(4 * 80 - 1));
      expect(chunks[i]!.content.startsWith(`${repeated} `)).toBe(true);
    }
    // Nothing is dropped: without the overlaps, the chunks are the transcript.
    const withoutOverlap = chunks.map((c, i) => (i === 0 ? c.content : c.content.slice(4 * 80)));
    expect(withoutOverlap.join(' ')).toBe(cues.map((c) => c.text).join(' '));
  });

  it('when a 2-hour SRT is chunked, then it makes the expected 69 chunks within the limits, from 0 to 7199.5 seconds', () => {
    // 1800 cues, one every 4 s, each two display lines that make 79 characters: 20 tokens with its space.
    const srt = Array.from({ length: 1800 }, (_, i) => {
      const [line1, line2] = [`Part ${i} of the training:`.padEnd(39, '-'), 'we look at the ad spend per product ok.'];
      return `${i + 1}\n${srtTime(i * 4000)} --> ${srtTime(i * 4000 + 3500)}\n${line1}\n${line2}\n`;
    }).join('\n');
    const cues = parseTranscript('srt', srt);
    expect(cues).toHaveLength(1800);
    expect(cues[1799]).toMatchObject({ start: '7196', end: '7199.5' });
    expect(cues[0]!.text).toHaveLength(79);

    const chunks = chunkTranscript(cues);
    // The first chunk holds 30 cues (600 tokens); each next one repeats 4 and adds 26.
    // 1800 = 30 + 68 × 26 + 2, and the last 2 cues fit in the 69th chunk (32 cues, 640 tokens).
    expect(chunks).toHaveLength(69);
    expect(chunks.every((c) => c.tokenCount > 0 && c.tokenCount <= 800)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.tokenCount === 600)).toBe(true);
    expect(chunks.at(-1)!.tokenCount).toBe(640);
    expect(chunks[0]).toMatchObject({ startSeconds: '0', endSeconds: '119.5' });
    // Chunk 1 starts at cue 26 (30 − 4 repeated) and ends at cue 55.
    expect(chunks[1]).toMatchObject({ startSeconds: '104', endSeconds: '223.5' });
    expect(chunks.at(-1)).toMatchObject({ startSeconds: String(1768 * 4), endSeconds: '7199.5' });
  });

  it('when one cue is far larger than the maximum, then it is split at sentences, words and characters, every part keeping the cue’s times', () => {
    const sentences = Array.from({ length: 200 }, (_, i) => `Sentence number ${i} explains how the Rotterdam warehouse ships parcels.`);
    const noPunctuation = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ');
    const giant = `${sentences.join(' ')} ${noPunctuation} ${'x'.repeat(7000)}`;
    const cues: TranscriptCue[] = [
      { start: '10', end: '20', text: 'Before.' },
      { start: '20', end: '3620.25', text: giant },
      { start: '3621', end: '3622', text: 'After.' },
    ];
    const chunks = chunkTranscript(cues);
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(800);
      expect(chunk.content).toBe(chunk.content.trim());
      expect(chunk.content).not.toBe('');
    }
    // The small cues ride along with the giant's first and last parts; every part keeps the giant's times.
    expect(chunks[0]).toMatchObject({ startSeconds: '10', endSeconds: '3620.25' });
    expect(chunks[0]!.content.startsWith('Before. Sentence number 0 ')).toBe(true);
    for (const chunk of chunks.slice(1, -1)) expect(chunk).toMatchObject({ startSeconds: '20', endSeconds: '3620.25' });
    expect(chunks.at(-1)).toMatchObject({ startSeconds: '20', endSeconds: '3622' });
    // Sentence parts end at a sentence, word parts at a word; the run of x's is cut inside the word.
    expect(chunks[1]!.content).toMatch(/^Sentence number \d+ .* parcels\.$/);
    expect(chunks.some((c) => /^word\d+ .* word\d+$/.test(c.content))).toBe(true);
    expect(chunks.some((c) => /^x+$/.test(c.content) && c.tokenCount === 800)).toBe(true);
    // Rejoined, the parts are the cues again: the parts are far above the overlap, so none repeats.
    const rejoined = chunks.map((c) => c.content).join(' ');
    expect(rejoined.replace(/x (?=x)/g, 'x')).toBe(`Before. ${giant} After.`);
  });

  it('when paragraphs without times are chunked, then they join by line breaks and chunks have no times', () => {
    const cues = parseTranscript('txt', Array.from({ length: 40 }, (_, i) => `Paragraph ${i}. ${'Margins and ad spend. '.repeat(8)}`).join('\n\n'));
    const chunks = chunkTranscript(cues, { targetTokens: 200, maxTokens: 300, overlapTokens: 60 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ startSeconds: null, endSeconds: null });
      expect(chunk.tokenCount).toBeLessThanOrEqual(300);
      expect(chunk.content.split('\n').every((p) => /^Paragraph \d+\./.test(p))).toBe(true);
    }
  });

  it('when a token counter is given, then chunks are measured and bounded by it', () => {
    const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const cues = timedCues(500, 60);
    const chunks = chunkTranscript(cues, { targetTokens: 100, maxTokens: 120, overlapTokens: 20, countTokens: countWords });
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBe(countWords(chunk.content));
      expect(chunk.tokenCount).toBeLessThanOrEqual(120);
    }
    expect(chunks.slice(0, -1).every((c) => Math.abs(c.tokenCount - 100) <= countWords(cues[0]!.text))).toBe(true);
  });

  it('when the same cues are chunked twice, then the chunks are identical', () => {
    const cues = timedCues(1000, 97);
    expect(chunkTranscript(cues)).toEqual(chunkTranscript(cues));
  });

  it('when there are no cues or only empty ones, then there are no chunks', () => {
    expect(chunkTranscript([])).toEqual([]);
    expect(chunkTranscript([{ start: '1', end: '2', text: '  ' }])).toEqual([]);
  });

  it('when the options contradict each other, then a 400 says which', () => {
    const err = errorOf(() => chunkTranscript([], { targetTokens: 900, overlapTokens: 900 }));
    expect(err.status).toBe(400);
    expect(err.fieldErrors?.options).toEqual([
      'targetTokens must be a positive integer no larger than maxTokens',
      'overlapTokens must be a whole number below targetTokens',
    ]);
  });
});

describe('transcriptDuration', () => {
  it("when a transcript has times, then its duration is the latest cue end, exactly; plain text has none", () => {
    const srt = '1\n00:00:01,000 --> 00:00:04,500\nHello\n\n2\n01:02:03,450 --> 01:02:09,5\nBye\n';
    expect(transcriptDuration(parseTranscript('srt', srt))).toBe('3729.5');
    const vtt = 'WEBVTT\n\n00:00.000 --> 00:10.000\nA long first cue\n\n00:02.000 --> 00:03.250\nOverlapping, ends earlier\n';
    expect(transcriptDuration(parseTranscript('vtt', vtt))).toBe('10');
    expect(transcriptDuration(parseTranscript('txt', 'One paragraph.\n\nAnother.'))).toBeNull();
    expect(transcriptDuration([])).toBeNull();
  });
});
