/**
 * Telegram outbound: the telegram-outbound queue's worker, the only code that sends
 * to Telegram. Texts are Telegram HTML (see the tags and the formatter in
 * @dealdome/domain's delivery module), split into parts of at most 4096 visible
 * characters, sent once each, under a global and a per-chat rate limit.
 */
export { startOutboundWorker } from './worker';
export type { OutboundWorker, OutboundWorkerOptions } from './worker';
export { createTelegramClient, redact } from './telegram';
export type { TelegramClientOptions, TelegramSender } from './telegram';
export { defaultChatRateLimits } from './chat-limits';
export type { ChatRateLimit, ChatRateLimits } from './chat-limits';
export { htmlToPlainText, splitTelegramHtml, TELEGRAM_MESSAGE_LIMIT } from './split';
export type { MessagePart } from './split';
export { outboundEnvShape, outboundLimitsFromEnv } from './config';
export type { OutboundEnv } from './config';
