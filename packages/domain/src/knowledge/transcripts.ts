import { invalid } from '../errors';

/**
 * Transcripts for the knowledge base: an uploaded .txt, .srt or .vtt read into cues,
 * and the cues cut into chunks sized for embedding and full-text search. Both are pure
 * functions; the ingest job stores what they return.
 *
 * The SRT and WebVTT readers are written here rather than taken from npm, because
 * each candidate misses something an upload from the team needs:
 * - `subtitle` (4.x) wants exactly one space around "-->", reads "00:00:01,5" as 1.005 s,
 *   leaves WebVTT tags and entities in the text, skips NOTE but not STYLE or REGION
 *   blocks, accepts a cue that ends before it starts, and counts error rows from the
 *   first non-blank line rather than the file's first line.
 * - `@plussub/srt-vtt-parser` (2.x) is ESM only, splits on "\n" alone so CRLF and a
 *   BOM leak into the text, takes any identifier containing "NOTE" or "STYLE" for
 *   a block to skip, and turns an unreadable time into NaN without a word.
 * - `node-webvtt` (2.x) needs Node 22, reads WebVTT only, and names no line in its errors.
 * What a transcript needs is small: lines, blank-line blocks, one time grammar, and
 * tag and entity removal, so the readers below are short and say which line is wrong.
 *
 * Times are read into whole milliseconds and leave as decimal seconds ("754.5"):
 * integer arithmetic is exact, so no fraction ever passes through a binary float and
 * Decimal is not needed. chunks.start_seconds is NUMERIC(10,3), which is where the
 * upper bound on a time comes from.
 */

export const TRANSCRIPT_FORMATS = ['txt', 'srt', 'vtt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** One caption, or one paragraph of a plain-text transcript (no times). */
export interface TranscriptCue {
  /** Seconds into the video as an exact decimal with up to 3 decimals ("3723.04"). */
  start: string | null;
  end: string | null;
  /** Plain text on one line: display line breaks, tags and entities are gone. */
  text: string;
}

export interface TranscriptChunk {
  /** 0-based position in the transcript. */
  index: number;
  content: string;
  /** The first cue's start and the last cue's end; null for a plain-text transcript. */
  startSeconds: string | null;
  endSeconds: string | null;
  tokenCount: number;
}

export interface TranscriptChunkOptions {
  /** The size chunks aim for: each chunk stops at the cue that leaves it closest to this. */
  targetTokens?: number;
  /** A hard ceiling: no chunk is larger (a cue larger than this is split). */
  maxTokens?: number;
  /** How much of a chunk's end, in whole cues, the next chunk repeats at its start. */
  overlapTokens?: number;
  countTokens?: (text: string) => number;
}

/**
 * A few hundred tokens hold a passage that answers one question and still embed well;
 * the overlap keeps a sentence cut at a chunk's end findable in the next.
 */
export const TRANSCRIPT_CHUNK_DEFAULTS = {
  targetTokens: 600,
  maxTokens: 800,
  overlapTokens: 80,
  /** estimateTokens of @dealdome/ai, the estimate budgets use (the domain does not depend on ai). */
  countTokens: (text: string): number => Math.ceil(text.length / 4),
} as const satisfies Required<TranscriptChunkOptions>;

// ---------------------------------------------------------------- parsing

/** Reads a transcript; throws a 400 naming the first line it cannot make sense of. */
export function parseTranscript(format: TranscriptFormat, text: string): TranscriptCue[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (lines.every(isBlank)) throw lineError(1, 'the transcript is empty.');
  switch (format) {
    case 'txt':
      return parseParagraphs(lines);
    case 'srt':
    case 'vtt':
      return parseCues(format, lines);
  }
}

function lineError(line: number, problem: string) {
  const message = `Line ${line} of the transcript: ${problem}`;
  return invalid({ transcript: [message] }, message);
}

const isBlank = (line: string) => line.trim() === '';
const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();

function parseParagraphs(lines: readonly string[]): TranscriptCue[] {
  const cues: TranscriptCue[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) cues.push({ start: null, end: null, text: squeeze(paragraph.join(' ')) });
    paragraph = [];
  };
  for (const line of lines) {
    if (isBlank(line)) flush();
    else paragraph.push(line);
  }
  flush();
  return cues;
}

/** Index of the first line after the WebVTT header block ("WEBVTT" and its metadata lines). */
function skipVttHeader(lines: readonly string[]): number {
  if (!/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? '')) {
    throw lineError(1, 'a WebVTT file starts with "WEBVTT".');
  }
  let i = 1;
  // A cue right under the header without the blank line the spec asks for is still a cue.
  while (i < lines.length && !isBlank(lines[i]!) && !looksLikeTiming(lines[i]!)) i++;
  return i;
}

const TIMESTAMP = /^(?:(\d{1,4}):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})$/;
const TIMING = /^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)(?:\s+.*)?$/;
const MAX_MILLISECONDS = 9_999_999_999;

/**
 * A timing line starts with a digit and has an arrow; anything else with an arrow in it
 * is text. Such a line that then fails to parse is an error, not a line of text.
 */
const looksLikeTiming = (line: string) => /^\s*\d/.test(line) && line.includes('-->');

function readTimestamp(value: string, line: number): number {
  const match = TIMESTAMP.exec(value);
  const [, hours = '0', minutes = '', seconds = '', fraction = ''] = match ?? [];
  if (!match || Number(minutes) > 59 || Number(seconds) > 59) {
    throw lineError(line, `"${value}" is not a time; expected HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm / MM:SS.mmm (WebVTT).`);
  }
  // "1,5" is 1.5 seconds: the digits are a decimal fraction, not a count of milliseconds.
  const ms = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + Number(fraction.padEnd(3, '0'));
  if (ms > MAX_MILLISECONDS) throw lineError(line, `"${value}" is later than a video can be.`);
  return ms;
}

function readTiming(text: string, line: number): { start: number; end: number } {
  const match = TIMING.exec(text);
  if (!match) {
    throw lineError(line, `cannot read the cue timing "${clip(text)}"; expected "00:01:02,500 --> 00:01:04,000".`);
  }
  const start = readTimestamp(match[1]!, line);
  const end = readTimestamp(match[2]!, line);
  if (end < start) throw lineError(line, `the cue ends (${match[2]}) before it starts (${match[1]}).`);
  return { start, end };
}

/** 754500 → "754.5": exact, because only integers were ever involved. */
function toSeconds(ms: number): string {
  const fraction = ms % 1000;
  const whole = String((ms - fraction) / 1000);
  return fraction === 0 ? whole : `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}

const clip = (text: string) => (text.length > 60 ? `${text.trim().slice(0, 57)}…` : text.trim());

interface CueDraft {
  start: number;
  end: number;
  lines: string[];
}

/**
 * SRT and WebVTT share a shape: blank-line separated blocks, each an optional
 * identifier, a timing line, then text. Numbering is never trusted (files are
 * renumbered, merged and hand-edited), so an identifier is recognised by the timing
 * line under it. A timing line inside a cue's text starts the next cue (the blank line
 * was lost), and text after a blank line but before the next timing is more of the
 * same cue (a blank line typed into the text), so no words are dropped.
 */
function parseCues(format: 'srt' | 'vtt', lines: readonly string[]): TranscriptCue[] {
  const drafts: CueDraft[] = [];
  let state: 'between' | 'text' | 'skip' = 'between';
  for (let i = format === 'vtt' ? skipVttHeader(lines) : 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!;
    if (isBlank(line)) {
      state = 'between';
      continue;
    }
    if (state === 'skip') continue;
    const current = drafts.at(-1);
    if (looksLikeTiming(line)) {
      // The number of the next cue, written without the blank line before it.
      if (state === 'text' && current && /^\d+$/.test(current.lines.at(-1)?.trim() ?? '')) current.lines.pop();
      const { start, end } = readTiming(line, lineNumber);
      if (current && start < current.start) {
        throw lineError(lineNumber, `the cue starts (${toSeconds(start)} s) before the cue above it (${toSeconds(current.start)} s); cues must be in time order.`);
      }
      drafts.push({ start, end, lines: [] });
      state = 'text';
      continue;
    }
    if (state === 'text') {
      current!.lines.push(line);
      continue;
    }
    // Between cues: a WebVTT comment or style block, an identifier, or stray text.
    if (format === 'vtt' && /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(line)) {
      state = 'skip';
      continue;
    }
    const next = lines[i + 1];
    if ((next !== undefined && looksLikeTiming(next)) || /^\d+$/.test(line.trim())) continue;
    if (current) {
      current.lines.push(line);
      state = 'text';
      continue;
    }
    throw lineError(lineNumber, `expected a cue number or a timing such as "00:01:02,500 --> 00:01:04,000", found "${clip(line)}".`);
  }

  const clean = format === 'vtt' ? cleanVttText : cleanSrtText;
  const cues = drafts.flatMap((d) => {
    const text = clean(d.lines);
    return text === '' ? [] : [{ start: toSeconds(d.start), end: toSeconds(d.end), text }];
  });
  // A final line break ends the last line rather than starting an empty one.
  const lastLine = lines.length > 1 && lines.at(-1) === '' ? lines.length - 1 : lines.length;
  if (cues.length === 0) throw lineError(lastLine, 'the transcript ended without a cue that has text.');
  return cues;
}

/**
 * How long a timed transcript runs: the latest end of its cues, in seconds as
 * parseTranscript writes them ("754.5"). Null for plain text, which has no times.
 * What a video without a duration of its own is given once its transcript is read.
 */
export function transcriptDuration(cues: readonly TranscriptCue[]): string | null {
  return latestEnd(cues);
}

/** The latest of the ends (cues may overlap, so not always the last one's); null when none has times. */
function latestEnd(items: readonly { end: string | null }[]): string | null {
  let latest: string | null = null;
  for (const { end } of items) {
    // At most 7 whole digits and 3 decimals: a double compares them exactly.
    if (end !== null && (latest === null || Number(end) > Number(latest))) latest = end;
  }
  return latest;
}

/** SRT has no markup of its own; players honour a few HTML tags and ASS overrides ({\an8}). */
function cleanSrtText(lines: readonly string[]): string {
  return squeeze(
    lines
      .join(' ')
      .replace(/<\/?(?:i|b|u|s|font)(?:\s[^<>]*)?>/gi, '')
      .replace(/\{\\[^{}]*\}/g, ''),
  );
}

/**
 * WebVTT cue text escapes "<" and "&", so every "<…>" is markup (voice, class, ruby,
 * karaoke timestamps) and can go. Entities are decoded afterwards and in one pass, so
 * "&amp;lt;" stays the literal text "&lt;".
 */
function cleanVttText(lines: readonly string[]): string {
  return squeeze(decodeEntities(lines.join(' ').replace(/<[^>]*>/g, '')));
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  lrm: '',
  rlm: '',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[\da-f]{1,6}|[a-z]+);/gi, (entity, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
}

// ---------------------------------------------------------------- chunking

/** A cue, or a part of one too large for a chunk; parts keep their cue's times. */
interface Piece {
  cue: number;
  text: string;
  start: string | null;
  end: string | null;
  /** What rejoins this part to the previous part of the same cue: " " or "" (split inside a word). */
  glue: string;
}

/**
 * Cuts cues into chunks of whole cues, each as close to `targetTokens` as a cue
 * boundary allows and never above `maxTokens`; the last cues of a chunk, up to
 * `overlapTokens`, open the next one. A cue larger than `maxTokens` is split at
 * sentences, then words, then characters, each part keeping the cue's times.
 * Timed cues are joined by a space, paragraphs by a line break. Cues are expected in
 * time order, as parseTranscript returns them, so a chunk never ends before it starts.
 */
export function chunkTranscript(cues: readonly TranscriptCue[], options: TranscriptChunkOptions = {}): TranscriptChunk[] {
  const settings: Required<TranscriptChunkOptions> = {
    targetTokens: options.targetTokens ?? TRANSCRIPT_CHUNK_DEFAULTS.targetTokens,
    maxTokens: options.maxTokens ?? TRANSCRIPT_CHUNK_DEFAULTS.maxTokens,
    overlapTokens: options.overlapTokens ?? TRANSCRIPT_CHUNK_DEFAULTS.overlapTokens,
    countTokens: options.countTokens ?? TRANSCRIPT_CHUNK_DEFAULTS.countTokens,
  };
  const { targetTokens, maxTokens, overlapTokens, countTokens } = settings;
  const problems = [
    ...(Number.isInteger(maxTokens) && maxTokens >= 1 ? [] : ['maxTokens must be a positive integer']),
    ...(Number.isInteger(targetTokens) && targetTokens >= 1 && targetTokens <= maxTokens ? [] : ['targetTokens must be a positive integer no larger than maxTokens']),
    ...(Number.isInteger(overlapTokens) && overlapTokens >= 0 && overlapTokens < targetTokens ? [] : ['overlapTokens must be a whole number below targetTokens']),
  ];
  if (problems.length > 0) throw invalid({ options: problems }, 'The chunking options are not valid.');

  const pieces = cues.flatMap((cue, index) => {
    const text = squeeze(cue.text);
    if (text === '') return [];
    return splitToFit(text, settings).map((part) => ({ cue: index, start: cue.start, end: cue.end, ...part }));
  });
  const tokensOf = (items: readonly Piece[]) => countTokens(joinPieces(items));

  const chunks: TranscriptChunk[] = [];
  let next = 0;
  let overlap: Piece[] = [];
  while (next < pieces.length) {
    const first = pieces[next]!;
    while (overlap.length > 0 && tokensOf([...overlap, first]) > maxTokens) overlap = overlap.slice(1);
    const items = [...overlap, first];
    next++;
    next = fill(items, pieces, next, settings);
    const chunk = joinPieces(items);
    chunks.push({
      index: chunks.length,
      content: chunk,
      startSeconds: items[0]!.start,
      // Overlapping cues can end before an earlier one does: the chunk ends with the latest.
      endSeconds: latestEnd(items),
      tokenCount: countTokens(chunk),
    });
    overlap = tailWithin(items, overlapTokens, tokensOf);
  }
  return chunks;
}

/**
 * Adds pieces from `from` while each brings the chunk closer to the target without
 * passing the maximum; then, if everything left fits, takes it too, so the transcript
 * does not end on a small chunk that mostly repeats the one before. Returns the index
 * of the first piece not taken.
 */
function fill(items: Piece[], pieces: readonly Piece[], from: number, settings: Required<TranscriptChunkOptions>): number {
  const { targetTokens, maxTokens, countTokens } = settings;
  let next = from;
  let tokens = countTokens(joinPieces(items));
  while (next < pieces.length) {
    const candidate = countTokens(joinPieces([...items, pieces[next]!]));
    if (candidate > maxTokens || (candidate > targetTokens && candidate - targetTokens >= targetTokens - tokens)) break;
    items.push(pieces[next]!);
    tokens = candidate;
    next++;
  }
  const rest: Piece[] = [];
  for (let i = next; i < pieces.length; i++) {
    rest.push(pieces[i]!);
    if (countTokens(joinPieces([...items, ...rest])) > maxTokens) return next;
  }
  items.push(...rest);
  return pieces.length;
}

/** The chunk's last whole pieces that fit in `budget`, never the whole chunk. */
function tailWithin(items: readonly Piece[], budget: number, tokensOf: (items: readonly Piece[]) => number): Piece[] {
  let take = 0;
  while (take + 1 < items.length && tokensOf(items.slice(items.length - take - 1)) <= budget) take++;
  return take === 0 ? [] : items.slice(items.length - take);
}

function joinPieces(items: readonly Piece[]): string {
  let text = '';
  items.forEach((piece, i) => {
    const previous = items[i - 1];
    if (previous) text += separator(previous, piece);
    text += piece.text;
  });
  return text;
}

function separator(previous: Piece, piece: Piece): string {
  if (previous.cue === piece.cue) return piece.glue;
  const untimed = (p: Piece) => p.start === null && p.end === null;
  return untimed(previous) && untimed(piece) ? '\n' : ' ';
}

/**
 * One cue's text as parts of at most `maxTokens`, each packed toward the target the
 * same way chunks are: sentences first so a part reads on its own, then words, then
 * characters for text without spaces (a URL, or a language written without them).
 */
function splitToFit(text: string, settings: Required<TranscriptChunkOptions>): { text: string; glue: string }[] {
  const { maxTokens, countTokens } = settings;
  if (countTokens(text) <= maxTokens) return [{ text, glue: ' ' }];
  const sentences = text.match(/[^]*?(?:[.!?…]+["'”’)\]]*(?:\s+|$)|[。！？]+\s*|$)/gu)!.filter((s) => s !== '');
  return pack(sentences, settings).flatMap((part) => {
    const glue = /\s/.test(text[part.offset - 1] ?? ' ') ? ' ' : '';
    if (countTokens(part.text) <= maxTokens) return [{ text: part.text, glue }];
    const words = part.text.match(/\S+\s*/g)!;
    return pack(words, settings).flatMap((wordPart, j) => {
      const wordGlue = j === 0 ? glue : ' ';
      if (countTokens(wordPart.text) <= maxTokens) return [{ text: wordPart.text, glue: wordGlue }];
      return splitCharacters(wordPart.text, maxTokens, countTokens).map((chars, k) => ({ text: chars, glue: k === 0 ? wordGlue : '' }));
    });
  });
}

/**
 * Consecutive units (each carrying its trailing whitespace) grouped the way chunks are
 * filled: toward the target, never past the maximum unless one unit alone is larger,
 * which the caller splits further. `offset` is where the group starts in the units' text.
 */
function pack(units: readonly string[], settings: Required<TranscriptChunkOptions>): { text: string; offset: number }[] {
  const { targetTokens, maxTokens, countTokens } = settings;
  const parts: { text: string; offset: number }[] = [];
  let group = '';
  let groupOffset = 0;
  let offset = 0;
  for (const unit of units) {
    const tokens = countTokens(group.trim());
    const candidate = countTokens((group + unit).trim());
    const closer = candidate <= targetTokens || candidate - targetTokens < targetTokens - tokens;
    if (group !== '' && (candidate > maxTokens || !closer)) {
      parts.push({ text: group.trim(), offset: groupOffset });
      group = '';
      groupOffset = offset;
    }
    group += unit;
    offset += unit.length;
  }
  if (group.trim() !== '') parts.push({ text: group.trim(), offset: groupOffset });
  return parts;
}

/** The longest prefixes (in whole code points) within `maxTokens`, found by bisection. */
function splitCharacters(text: string, maxTokens: number, countTokens: (text: string) => number): string[] {
  const parts: string[] = [];
  let rest = Array.from(text);
  while (rest.length > 0) {
    let low = 1;
    let high = rest.length;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (countTokens(rest.slice(0, middle).join('')) <= maxTokens) low = middle;
      else high = middle - 1;
    }
    parts.push(rest.slice(0, low).join(''));
    rest = rest.slice(low);
  }
  return parts;
}
