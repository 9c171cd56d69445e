import type { Database } from '@dealdome/db';
import { AdSpendImportRejected, AppError, importAdSpendCsv, listStores, MAX_TRANSCRIPT_CHARACTERS, storeVideo, transcriptTooLong } from '@dealdome/domain';
import type { AdSpendImportResult, Store } from '@dealdome/domain';
import type { Document } from 'node-telegram-bot-api';
import type { MemberContext } from './context';
import { clip, esc, groupDigits } from './html';
import { FileTooLargeError, TELEGRAM_MAX_DOWNLOAD_BYTES } from './telegram';

/**
 * Files sent to the bot: an ads-manager CSV is imported as ad spend; a transcript
 * (.txt, .srt, .vtt) becomes a video of the knowledge base, named by the caption,
 * and is queued for ingestion. The size Telegram declares is checked before
 * anything is fetched; a transcript is held to the API's MAX_TRANSCRIPT_CHARACTERS.
 */

/** The same cap as the API's import route. */
const MAX_CSV_BYTES = 5 * 1024 * 1024;
const LISTED_ROW_ERRORS = 15;
const transcriptFormats = ['txt', 'srt', 'vtt'] as const;
/**
 * No more characters than this many bytes of UTF-8 can hold (3 bytes at most per
 * UTF-16 unit, plus a byte-order mark): a larger transcript file is too long for sure.
 */
const MAX_TRANSCRIPT_BYTES = MAX_TRANSCRIPT_CHARACTERS * 3 + 3;
type TranscriptFormat = (typeof transcriptFormats)[number];

const megabytes = (bytes: number) => `${(Math.round((bytes / 1024 / 1024) * 10) / 10).toFixed(1)} MB`;

function extensionOf(name: string): string {
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(name);
  return match ? match[1]!.toLowerCase() : '';
}

export async function handleDocument(ctx: MemberContext, document: Document, caption: string, telegramMessageId: number): Promise<void> {
  const name = document.file_name ?? 'the file';
  const extension = extensionOf(name);
  const isCsv = extension === 'csv';
  const transcriptFormat = transcriptFormats.find((f) => f === extension);
  // Stored first, on its own: should importing die half-way, a retry sees it and imports nothing twice.
  await ctx.storeUserMessage(`[file ${name}]${caption ? ` ${caption}` : ''}`, { answered: true, telegramMessageId });

  if (!isCsv && !transcriptFormat) {
    await ctx.reply(
      `I can read ad-spend exports (.csv) and video transcripts (.txt, .srt, .vtt); “${esc(clip(name, 80))}” is neither.`,
    );
    return;
  }
  const limit = isCsv ? MAX_CSV_BYTES : TELEGRAM_MAX_DOWNLOAD_BYTES;
  const tooLarge = (size: number | undefined) =>
    `“${esc(clip(name, 80))}” is ${size === undefined ? 'too large' : megabytes(size)}; ` +
    (limit === TELEGRAM_MAX_DOWNLOAD_BYTES
      ? `Telegram lets bots download files of at most 20 MB. Split it into smaller files and send them one by one.`
      : `an ad-spend import takes at most ${megabytes(limit)}. Split it into smaller files.`);
  if (document.file_size !== undefined && document.file_size > limit) {
    await ctx.reply(tooLarge(document.file_size));
    return;
  }
  if (transcriptFormat && document.file_size !== undefined && document.file_size > MAX_TRANSCRIPT_BYTES) {
    await ctx.reply(transcriptTooLongReply(name, megabytes(document.file_size)));
    return;
  }

  let content: Buffer;
  try {
    content = await ctx.deps.telegram.download(document.file_id, limit);
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      await ctx.reply(tooLarge(undefined));
      return;
    }
    throw err;
  }
  const text = decodeText(content);
  if (text === undefined) {
    await ctx.reply(`“${esc(clip(name, 80))}” is not UTF-8 text; export it again as UTF-8 (CSV UTF-8 in a spreadsheet).`);
    return;
  }
  if (isCsv) await importCsv(ctx, text, caption);
  else await storeTranscript(ctx, name, text, transcriptFormat!, caption);
}

function decodeText(content: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(content);
    // PostgreSQL text cannot hold NUL: such a file is not a text export.
    return text.includes('\u0000') ? undefined : text.replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- ad spend

async function allStores(db: Database): Promise<Store[]> {
  const stores: Store[] = [];
  let cursor: string | undefined;
  do {
    const page = await listStores(db, { limit: 200, ...(cursor && { cursor }) });
    stores.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return stores;
}

/** The store a caption names, by name, shop domain or id (case does not matter). */
function storeNamed(stores: Store[], caption: string): Store | undefined {
  const wanted = caption.trim().toLowerCase();
  return stores.find((s) => s.name.toLowerCase() === wanted || s.shopDomain === wanted || s.id === wanted);
}

const storeList = (stores: Store[]) => stores.map((s) => `“${esc(s.name)}”`).join(', ');

async function importCsv(ctx: MemberContext, csv: string, caption: string): Promise<void> {
  const stores = await allStores(ctx.db);
  let store: Store | undefined;
  if (caption.trim() !== '') {
    store = storeNamed(stores, caption);
    if (!store) {
      await ctx.reply(
        `No store is called “${esc(clip(caption, 80))}”. Send the file again with one of these as the caption: ${storeList(stores) || '(there are no stores yet)'}.`,
      );
      return;
    }
  } else if (stores.length === 1) {
    store = stores[0];
  }

  let result: AdSpendImportResult;
  try {
    result = await importAdSpendCsv(ctx.db, csv, { ...(store && { storeId: store.id }), createdBy: ctx.member.id });
  } catch (err) {
    await ctx.reply(importRefusal(err, stores));
    return;
  }
  const totals = Object.entries(result.totalsByCurrency).map(
    ([currency, perPlatform]) =>
      `${Object.entries(perPlatform)
        .map(([platform, amount]) => `${platform} ${groupDigits(amount)}`)
        .join(' · ')} ${currency}`,
  );
  await ctx.reply(
    [
      `Imported ${result.imported} ad-spend ${result.imported === 1 ? 'entry' : 'entries'}${store ? ` into ${esc(store.name)}` : ''}.`,
      ...totals.map(esc),
      `Batch <code>${result.importBatchId}</code>.`,
    ].join('\n'),
  );
}

function importRefusal(err: unknown, stores: Store[]): string {
  if (err instanceof AdSpendImportRejected) {
    const rows = err.rows.slice(0, LISTED_ROW_ERRORS).map((r) => {
      const problems = Object.entries(r.errors).map(([column, messages]) => `${column} ${messages.join('; ')}`);
      return `Row ${r.row}: ${esc(clip(problems.join(' · '), 300))}`;
    });
    const more = err.badRows - rows.length;
    return [
      `Nothing was imported: ${err.badRows} ${err.badRows === 1 ? 'row has' : 'rows have'} errors (the header is row 1).`,
      ...rows,
      ...(more > 0 ? [`…and ${more} more.`] : []),
    ].join('\n');
  }
  if (err instanceof AppError && err.fieldErrors?.storeId) {
    return `Which store is this for? Send the file again with the store's name as the caption: ${storeList(stores) || '(there are no stores yet)'}.`;
  }
  if (err instanceof AppError && err.status < 500) {
    const details = Object.entries(err.fieldErrors ?? {}).map(([field, messages]) => `${field}: ${messages.join('; ')}`);
    return [`Nothing was imported. ${esc(err.message)}`, ...details.map((d) => esc(clip(d, 300)))].join('\n');
  }
  throw err;
}

// ---------------------------------------------------------------- transcripts

/** Longer addresses are not video links someone typed into a caption. */
const MAX_VIDEO_URL_LENGTH = 2048;

/**
 * A transcript's caption names its video: the title, then the video's address as the
 * caption's last word (on the title's line or its own), which Elisa's citations link
 * to at the passage's time. A caption without an http(s) address is all title.
 */
function transcriptCaption(caption: string): { title: string; url: string | null } {
  const trimmed = caption.trim();
  const last = /\S+$/.exec(trimmed);
  if (last && last[0].length <= MAX_VIDEO_URL_LENGTH && /^https?:\/\//i.test(last[0])) {
    try {
      const url = new URL(last[0]);
      if (url.protocol === 'http:' || url.protocol === 'https:') return { title: trimmed.slice(0, last.index).trim(), url: url.href };
    } catch {
      // Not an address after all: it is part of the title.
    }
  }
  return { title: trimmed, url: null };
}

/** A transcript over the API's cap: nothing is stored, and the person learns how to send it. */
const transcriptTooLongReply = (fileName: string, size: string) =>
  `“${esc(clip(fileName, 80))}” is ${size}; a transcript may have at most ${groupDigits(String(MAX_TRANSCRIPT_CHARACTERS))} characters ` +
  '(about ten hours of captions). Nothing was stored: split it into parts and send them one by one.';

async function storeTranscript(ctx: MemberContext, fileName: string, transcript: string, format: TranscriptFormat, caption: string) {
  if (transcript.trim() === '') {
    await ctx.reply(`“${esc(clip(fileName, 80))}” is empty.`);
    return;
  }
  // storeVideo refuses it too; checked here first so the reply can say what to do.
  if (transcriptTooLong(transcript)) {
    await ctx.reply(transcriptTooLongReply(fileName, `${groupDigits(String(transcript.length))} characters`));
    return;
  }
  const named = transcriptCaption(caption);
  const title = clip(named.title || fileName.replace(/\.[^.]+$/, ''), 200);
  await ctx.transaction(async (trx) => {
    // Stored once per id: the id derives from the update, so handling it again adds nothing.
    const videoId = await storeVideo(trx, {
      id: ctx.rowId('video'),
      title,
      url: named.url,
      source: 'telegram',
      format,
      transcript,
      createdBy: ctx.member.id,
    });
    await ctx.reply(
      `Got the transcript “${esc(title)}” (${groupDigits(String(transcript.length))} characters)${named.url ? ` of ${esc(named.url)}` : ''}. ` +
        'It is queued for the knowledge base; Elisa can answer from it once it is processed.' +
        (named.url ? '' : "\nIts citations carry no link: to have them link to the video, end the caption with the video's address next time."),
      { db: trx },
    );
    ctx.queueIngest(videoId);
  });
}
