/**
 * The local Telegram emulator: the fake Bot API of ./telegram.ts as a standing
 * server, so the bot services run on a laptop with no Telegram account and no
 * internet, and a terminal chat client in another process plays the users.
 *
 *   pnpm --filter @dealdome/testkit telegram-emulator
 *
 * Environment: TELEGRAM_EMULATOR_PORT (default 8081), TELEGRAM_EMULATOR_HOST
 * (default 127.0.0.1), TELEGRAM_BOT_TOKEN (optional: only this token is then
 * accepted), TELEGRAM_EMULATOR_STRICT_HTML (reject a bare "&" in HTML, default
 * false), LOG_LEVEL. Point the bot at the emulator's URL as its Bot API root.
 *
 * Bot API: `POST|GET /bot{token}/{method}` and `GET /file/bot{token}/{file_path}`,
 * as Telegram serves them.
 *
 * Control API (JSON in, JSON out; errors are `{"error": "..."}` with 400 or 404):
 *
 *   POST /_emulator/messages   {chatId, text, from?, chatType?, chatTitle?, replyToMessageId?}
 *        A user writes in a chat. `from` defaults to {id: chatId, first_name: "Local user"};
 *        chatType is private (default), group, supergroup or channel.
 *        → 201 {update}
 *   POST /_emulator/callbacks  {chatId, messageId, data, from?}
 *        A user presses the inline button with callback_data `data` under the bot's message.
 *        → 201 {update}; 400 when the message has no such button.
 *   POST /_emulator/documents  {chatId, fileName, contentBase64 | text, mimeType?, caption?, from?}
 *        A user sends a file; the bot can getFile and download it.
 *        → 201 {update}
 *   GET  /_emulator/chats
 *        → 200 {chats: [Chat]}
 *   GET  /_emulator/chats/{chatId}/messages?after={revision}&timeout={seconds}
 *        Messages new, edited or deleted since `after` (0 for the whole history), each as
 *        {revision, message, deleted?}, and `next`: pass it as `after` on the next call.
 *        With timeout > 0 (at most 60) the call waits until something changes: a long poll.
 *        → 200 {messages: [{revision, message, deleted?}], next}
 *   GET  /_emulator/calls?method={name}&after={index}
 *        The bot's API calls (all but getUpdates unless method=getUpdates) from index `after`,
 *        e.g. to show "typing…" or callback answers. → 200 {calls: [...], next}
 *   GET  /_emulator/webhook
 *        → 200 getWebhookInfo's result
 */
import { z } from 'zod';
import { createLogger, envBool, envPort, logLevels, parseEnv } from '@dealdome/config';
import { FakeTelegram } from './telegram';

const schema = z.object({
  TELEGRAM_EMULATOR_PORT: envPort(8081),
  TELEGRAM_EMULATOR_HOST: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('127.0.0.1')),
  TELEGRAM_BOT_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^\d+:[\w-]+$/, 'expected <bot id>:<secret>')
      .optional(),
  ),
  TELEGRAM_EMULATOR_STRICT_HTML: envBool(false),
  LOG_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(logLevels).default('info')),
});

async function main(): Promise<void> {
  const env = parseEnv('telegram-emulator', schema);
  const logger = createLogger('telegram-emulator', { level: env.LOG_LEVEL });
  const fake = await FakeTelegram.start({
    port: env.TELEGRAM_EMULATOR_PORT,
    host: env.TELEGRAM_EMULATOR_HOST,
    strictHtml: env.TELEGRAM_EMULATOR_STRICT_HTML,
    // Milliseconds since the epoch: a restarted emulator's ids follow the last one's
    // unless it received over a thousand updates a second (ids stay within 2^53).
    firstUpdateId: Date.now(),
    ...(env.TELEGRAM_BOT_TOKEN ? { token: env.TELEGRAM_BOT_TOKEN } : {}),
    onCall: (call) => {
      if (call.method === 'getUpdates' && call.ok) return;
      const line = {
        method: call.method,
        chatId: call.chatId,
        ok: call.ok,
        ...(call.error ? { error: call.error.description } : {}),
      };
      if (call.ok) logger.info(line, 'bot call');
      else logger.warn(line, 'bot call failed');
    },
  });
  logger.info({ url: fake.url }, 'telegram emulator ready to serve');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    fake.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
