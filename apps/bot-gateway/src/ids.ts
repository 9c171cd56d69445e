import { createHash } from 'node:crypto';
import { jobIds } from '@dealdome/queues';
import type { IncomingUpdate } from './telegram';

/**
 * Ids derived from what Telegram sent, so that handling an update again writes
 * and queues nothing twice: the rows an update creates get ids derived from its
 * update_id, and each job's id is derived from the row it carries.
 */

/** An RFC 9562 version-8 UUID (the layout left to the application) from a name. */
export function derivedUuid(name: string): string {
  const bytes = createHash('sha256').update(`dealdome/bot-gateway/${name}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** At most this many messages are stored for one update (the user's and the replies). */
export const MAX_MESSAGES_PER_UPDATE = 8;

export type UpdateRowKind = 'message' | 'video' | 'memory';

/**
 * What identifies an update beyond its update_id, which Telegram may hand out
 * again (it restarts the sequence after a week without updates, and another bot
 * token has its own): the chat, message and date of a message, the id of a
 * callback query.
 */
function fingerprint(update: IncomingUpdate): string {
  const message = update.message;
  if (message) return `message/${message.chat.id}/${message.message_id}/${message.date}`;
  if (update.callback_query) return `callback/${update.callback_query.id}`;
  return 'other';
}

export const updateRowId = (update: IncomingUpdate, kind: UpdateRowKind, seq = 0) =>
  derivedUuid(`update/${update.update_id}/${fingerprint(update)}/${kind}/${seq}`);

export const updateMessageIds = (update: IncomingUpdate) =>
  Array.from({ length: MAX_MESSAGES_PER_UPDATE }, (_, seq) => updateRowId(update, 'message', seq));

/** The one refusal a Telegram user who is not on the team ever gets. */
export const refusalMessageId = (telegramUserId: number) => derivedUuid(`refusal/${telegramUserId}`);

export const { runTurn: runTurnJobId, deliverMessage: deliverMessageJobId, ingestTranscript: ingestTranscriptJobId, embedMemory: embedMemoryJobId } =
  jobIds;
