import { Writable } from 'node:stream';
import { Job, Queue } from 'bullmq';
import type { RedisConnection } from '@dealdome/queues';
import { Registry } from 'prom-client';
import { createLogger } from '@dealdome/config';
import { findOutboundMessage, fmt, html, recordMessagePartSent } from '@dealdome/domain';
import { createRedis, jobIds, Producer } from '@dealdome/queues';
import { FakeTelegram, parseTelegramHtml, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { createTelegramClient, splitTelegramHtml, startOutboundWorker } from '../src/outbound';
import type { OutboundWorker } from '../src/outbound';

// Shaped like a real token (bot id, colon, 35 characters), so nothing lets it through for looking harmless.
const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';

describe('telegram-outbound worker', () => {
  const database = useTestDatabase();
  const testRedis = useTestRedis();
  const logLines: string[] = [];
  const logger = createLogger('bot-gateway', {
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  });
  const registry = new Registry();
  let telegram: FakeTelegram;
  let connection: RedisConnection;
  let producer: Producer;
  let queue: Queue;
  let worker: OutboundWorker;

  const db = () => database.handle.db;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN, strictHtml: true });
    connection = createRedis(testRedis.url, logger, 'outbound-test');
    producer = new Producer(connection, testRedis.prefix);
    queue = new Queue('telegram-outbound', { connection, prefix: testRedis.prefix });
    worker = startOutboundWorker({
      db: db(),
      connection,
      prefix: testRedis.prefix,
      telegram: createTelegramClient({ token: TOKEN, apiRoot: telegram.url }),
      secrets: [TOKEN],
      logger,
      registry,
      concurrency: 4,
    });
  });

  afterAll(async () => {
    await worker?.close(2000);
    await queue?.close();
    await producer?.close();
    await connection?.quit();
    await telegram?.close();
  });

  async function conversationFor(chatId: number): Promise<string> {
    const open = await db()
      .selectFrom('conversations')
      .select('id')
      .where('chat_id', '=', String(chatId))
      .where('closed_at', 'is', null)
      .executeTakeFirst();
    if (open) return open.id;
    const created = await db().insertInto('conversations').values({ chat_id: String(chatId) }).returning('id').executeTakeFirstOrThrow();
    return created.id;
  }

  async function storeReply(
    chatId: number,
    text: string,
    options: { replyMarkup?: Record<string, unknown>; sentIds?: string[] } = {},
  ): Promise<string> {
    const row = await db()
      .insertInto('messages')
      .values({
        conversation_id: await conversationFor(chatId),
        role: 'assistant',
        agent: 'alfred',
        content: JSON.stringify([
          { type: 'tool_use', id: 'toolu_1', name: 'get_revenue', input: {} },
          { type: 'text', text },
        ]),
        ...(options.replyMarkup && { reply_markup: JSON.stringify(options.replyMarkup) }),
        ...(options.sentIds && { telegram_sent_message_ids: options.sentIds }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function sentIds(messageId: string): Promise<string[]> {
    const row = await db()
      .selectFrom('messages')
      .select('telegram_sent_message_ids')
      .where('id', '=', messageId)
      .executeTakeFirstOrThrow();
    return row.telegram_sent_message_ids ?? [];
  }

  /** Waits until the job has completed or failed for good, and returns it as stored. */
  async function settled(job: Job, timeoutMs = 15_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await queue.getJobState(job.id ?? '');
      if (state === 'completed' || state === 'failed') return (await Job.fromId(queue, job.id ?? ''))!;
      if (Date.now() > deadline) throw new Error(`job ${job.id} is still ${state} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const deliverMessage = (chatId: number, messageId: string) =>
    producer.enqueue('telegram-outbound', 'deliver-message', { chatId: String(chatId), messageId });

  const botMessages = (chatId: number) => telegram.messages(chatId).filter((m) => m.from?.is_bot);
  const sendsTo = (chatId: number) => telegram.sent.filter((c) => c.method === 'sendMessage' && c.chatId === chatId);

  it('when the worker has started, then the queue carries the global limit of 30 sends a second for every replica', async () => {
    let limit = await queue.getGlobalRateLimit();
    for (let tries = 0; limit === null && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      limit = await queue.getGlobalRateLimit();
    }
    expect(limit).toEqual({ max: 30, duration: 1000 });
  });

  it('when a reply of 10,000 characters is delivered, then it arrives as ordered parts of at most 4096 visible characters, cut at paragraphs, keyboard on the last', async () => {
    const chatId = 1001;
    telegram.addChat({ id: chatId });
    const paragraphs = Array.from({ length: 20 }, (_, i) => `<b>Point ${i + 1}.</b> ${'Revenue grew steadily across the stores. '.repeat(12).trim()}`);
    const text = paragraphs.join('\n\n');
    expect(parseTelegramHtml(text).text.length).toBeGreaterThan(10_000);
    const keyboard = { inline_keyboard: [[{ text: 'Details', callback_data: 'details:1' }]] };
    const messageId = await storeReply(chatId, text, { replyMarkup: keyboard });

    const job = await settled(await deliverMessage(chatId, messageId));

    expect(await job.getState()).toBe('completed');
    const received = botMessages(chatId);
    expect(received.length).toBe(3);
    for (const message of received) {
      expect(message.text!.length).toBeLessThanOrEqual(4096);
      expect(message.text).toMatch(/^Point \d+\. /);
      expect(message.text).toMatch(/stores\.$/);
      expect(message.entities?.[0]).toMatchObject({ type: 'bold', offset: 0 });
    }
    expect(received.map((m) => m.text).join('\n\n')).toBe(parseTelegramHtml(text).text);
    expect(received.map((m) => m.reply_markup)).toEqual([undefined, undefined, keyboard]);
    expect(await sentIds(messageId)).toEqual(received.map((m) => String(m.message_id)));
    expect(await registry.getSingleMetricAsString('telegram_outbound_parts_sent_total')).toMatch(
      /telegram_outbound_parts_sent_total\{kind="message",format="html"\} 3/,
    );
  });

  it('when data holds <, > and &, then the reply shows them as written', async () => {
    const chatId = 1002;
    telegram.addChat({ id: chatId });
    const product = 'Cups & <Saucers> "Deluxe"';
    const text = fmt.lines(fmt.bold(product), html`Margin ${'> 30% & rising'}`, fmt.code('a<b && c>d')).html;
    const messageId = await storeReply(chatId, text);

    await settled(await deliverMessage(chatId, messageId));

    const [message] = botMessages(chatId);
    // The fake runs in strict mode: a bare & would have been refused.
    expect(sendsTo(chatId).every((c) => c.ok && c.params.parse_mode === 'HTML')).toBe(true);
    expect(message?.text).toBe(`${product}\nMargin > 30% & rising\na<b && c>d`);
    expect(message?.entities?.map((e) => e.type)).toEqual(['bold', 'code']);
  });

  it('when Telegram cannot parse the HTML, then the part is sent again as plain text and the job succeeds', async () => {
    const chatId = 1003;
    telegram.addChat({ id: chatId });
    const messageId = await storeReply(chatId, 'Revenue for <Q3> is <b>up</b> &amp; rising');

    const job = await settled(await deliverMessage(chatId, messageId));

    expect(await job.getState()).toBe('completed');
    const calls = sendsTo(chatId);
    expect(calls.map((c) => [c.ok, c.params.parse_mode])).toEqual([
      [false, 'HTML'],
      [true, undefined],
    ]);
    expect(calls[0]?.error?.description).toMatch(/can't parse entities/);
    expect(botMessages(chatId).map((m) => m.text)).toEqual(['Revenue for <Q3> is up & rising']);
    expect(await sentIds(messageId)).toHaveLength(1);
    expect(await registry.getSingleMetricAsString('telegram_outbound_failures_total')).toMatch(
      /telegram_outbound_failures_total\{job="deliver-message",reason="html_rejected"\} 1/,
    );
  });

  it('when the same delivery runs twice, then nothing is sent twice', async () => {
    const chatId = 1004;
    telegram.addChat({ id: chatId });
    const text = Array.from({ length: 3 }, (_, i) => `Part ${i} ${'x'.repeat(3000)}`).join('\n\n');
    const messageId = await storeReply(chatId, text);

    await settled(await deliverMessage(chatId, messageId));
    await settled(await deliverMessage(chatId, messageId));

    expect(botMessages(chatId)).toHaveLength(3);
    expect(await sentIds(messageId)).toHaveLength(3);
  });

  it('when a delivery crashed after its first part, then the retry sends only the parts after it', async () => {
    const chatId = 1005;
    telegram.addChat({ id: chatId });
    const text = Array.from({ length: 3 }, (_, i) => `Part ${i} ${'y'.repeat(3000)}`).join('\n\n');
    const parts = splitTelegramHtml(text);
    expect(parts).toHaveLength(3);
    const messageId = await storeReply(chatId, text, { sentIds: ['4242'] });

    await settled(await deliverMessage(chatId, messageId));

    expect(botMessages(chatId).map((m) => m.text)).toEqual([parts[1]?.plain, parts[2]?.plain]);
    expect(await sentIds(messageId)).toEqual(['4242', ...botMessages(chatId).map((m) => String(m.message_id))]);
  });

  it('when Telegram answers 429 with retry_after, then the reply is delivered once after the wait without spending an attempt', async () => {
    const chatId = 1006;
    telegram.addChat({ id: chatId });
    const messageId = await storeReply(chatId, 'Your <b>weekly</b> numbers are ready.');
    telegram.injectError('sendMessage', { status: 429, retryAfter: 1 });

    const job = await settled(await deliverMessage(chatId, messageId));

    expect(await job.getState()).toBe('completed');
    // BullMQ counts the finishing attempt: one means the refused try did not count.
    expect(job.attemptsMade).toBe(1);
    const [refused, accepted, ...more] = sendsTo(chatId);
    expect(more).toEqual([]);
    expect(refused?.error?.error_code).toBe(429);
    expect(accepted?.ok).toBe(true);
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(1000);
    expect(botMessages(chatId)).toHaveLength(1);
  });

  it('when one chat gets many replies at once, then they arrive in the order written, spaced by its limit, while another chat is not held up', async () => {
    const busy = 1007;
    const quiet = 1008;
    telegram.addChat({ id: busy });
    telegram.addChat({ id: quiet });
    const busyIds = [];
    for (let i = 0; i < 5; i++) busyIds.push(await storeReply(busy, `Update ${i}`));
    const quietId = await storeReply(quiet, 'Hello');

    const jobs = [];
    // Queued as the runtime and the gateway queue them: the job id names the reply.
    for (const id of busyIds) jobs.push(await producer.enqueue('telegram-outbound', 'deliver-message', { chatId: String(busy), messageId: id }, { jobId: jobIds.deliverMessage(id) }));
    jobs.push(await deliverMessage(quiet, quietId));
    for (const job of jobs) await settled(job);

    // Jobs run side by side and the chat's budget puts some off: a later reply still never overtakes an earlier one.
    expect(botMessages(busy).map((m) => m.text)).toEqual(['Update 0', 'Update 1', 'Update 2', 'Update 3', 'Update 4']);
    // One a second plus a burst of two: three at once, then one per second.
    const times = sendsTo(busy)
      .filter((c) => c.ok)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(times[2]! - times[0]!).toBeLessThan(900);
    expect(times[3]! - times[0]!).toBeGreaterThanOrEqual(900);
    expect(times[4]! - times[3]!).toBeGreaterThanOrEqual(900);
    const [quietSend] = sendsTo(quiet);
    expect(quietSend!.at).toBeLessThan(times[3]!);
  });

  it('when a reply of several parts is delivered, then it is marked delivered with its last part, and the chat\'s later replies stop waiting on it', async () => {
    const chatId = 1012;
    telegram.addChat({ id: chatId });
    const earlier = await storeReply(chatId, Array.from({ length: 3 }, (_, i) => `Part ${i} ${'x'.repeat(3000)}`).join('\n\n'));
    const later = await storeReply(chatId, 'And one more thing');
    const lookback = { withinMs: 15 * 60_000, limit: 20 };
    const deliveredAt = async (id: string) =>
      (await db().selectFrom('messages').select('delivered_at').where('id', '=', id).executeTakeFirstOrThrow()).delivered_at;

    // Before: the later reply would wait behind the earlier one's job.
    expect((await findOutboundMessage(db(), later, lookback))?.earlierMessageIds).toEqual([earlier]);
    // A part that is not the last leaves the message on its way.
    expect(await recordMessagePartSent(db(), earlier, 0, 999, { last: false })).toBe(true);
    expect(await deliveredAt(earlier)).toBeNull();

    await settled(await producer.enqueue('telegram-outbound', 'deliver-message', { chatId: String(chatId), messageId: earlier }, { jobId: jobIds.deliverMessage(earlier) }));

    expect(await sentIds(earlier)).toHaveLength(3);
    expect(await deliveredAt(earlier)).toBeInstanceOf(Date);
    expect((await findOutboundMessage(db(), later, lookback))?.earlierMessageIds).toEqual([]);
    await settled(await producer.enqueue('telegram-outbound', 'deliver-message', { chatId: String(chatId), messageId: later }, { jobId: jobIds.deliverMessage(later) }));
    expect(botMessages(chatId).map((m) => m.text?.slice(0, 6))).toEqual(['Part 1', 'Part 2', 'And on']);
  });

  it('when a group gets two replies, then they are at least three seconds apart (twenty a minute)', async () => {
    const group = -1001234567890;
    telegram.addChat({ id: group, type: 'supergroup', title: 'Team' });
    const first = await storeReply(group, 'First');
    const second = await storeReply(group, 'Second');

    const jobs = [await deliverMessage(group, first), await deliverMessage(group, second)];
    for (const job of jobs) await settled(job);

    const [a, b] = sendsTo(group);
    expect(botMessages(group)).toHaveLength(2);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(2900);
  });

  it('when the chat does not exist, then the delivery fails once without retry', async () => {
    const messageId = await storeReply(1099, 'Nobody is here');

    const job = await settled(await deliverMessage(1099, messageId));

    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/chat not found/);
    expect(await sentIds(messageId)).toEqual([]);
  });

  it('when a chat action is asked for, then it is shown; a stale one is dropped; a refused one is not retried', async () => {
    const chatId = 1009;
    telegram.addChat({ id: chatId });

    const shown = await settled(
      await producer.enqueue('telegram-outbound', 'chat-action', { chatId: String(chatId), action: 'typing' }),
    );
    // Written past the producer, as if it had waited in the queue for ten seconds.
    const stale = await settled(
      await queue.add('chat-action', { chatId: String(chatId), action: 'upload_document' }, { timestamp: Date.now() - 10_000 }),
    );
    const refused = await settled(
      await producer.enqueue('telegram-outbound', 'chat-action', { chatId: '1098', action: 'typing' }),
    );

    expect(await shown.getState()).toBe('completed');
    expect(await stale.getState()).toBe('completed');
    expect(await refused.getState()).toBe('completed');
    expect(refused.attemptsMade).toBe(1);
    const actions = telegram.sent.filter((c) => c.method === 'sendChatAction');
    expect(actions.map((c) => [c.chatId, c.params.action, c.ok])).toEqual([
      [chatId, 'typing', true],
      [1098, 'typing', false],
    ]);
  });

  it('when a notification is delivered, then it is marked sent with its attempt and Telegram id; an undeliverable one is marked failed', async () => {
    const chatId = 1010;
    telegram.addChat({ id: chatId });
    const insert = (chat: number, text: string) =>
      db()
        .insertInto('notifications')
        .values({ kind: 'reminder', chat_id: String(chat), text })
        .returning('id')
        .executeTakeFirstOrThrow();
    const ok = await insert(chatId, html`Reminder: reorder ${'Cups & <Saucers>'}`.html);
    const lost = await insert(1097, 'Nobody reads this');

    await settled(await producer.enqueue('telegram-outbound', 'deliver-notification', { chatId: String(chatId), notificationId: ok.id }));
    const failed = await settled(
      await producer.enqueue('telegram-outbound', 'deliver-notification', { chatId: '1097', notificationId: lost.id }),
    );
    // Delivered already: a second job sends nothing.
    await settled(await producer.enqueue('telegram-outbound', 'deliver-notification', { chatId: String(chatId), notificationId: ok.id }));

    const rows = await db()
      .selectFrom('notifications')
      .select(['id', 'status', 'attempts', 'last_error', 'sent_at', 'telegram_sent_message_ids'])
      .where('id', 'in', [ok.id, lost.id])
      .execute();
    const sent = rows.find((r) => r.id === ok.id);
    const notSent = rows.find((r) => r.id === lost.id);
    const [message, ...more] = botMessages(chatId);
    expect(more).toEqual([]);
    expect(message?.text).toBe('Reminder: reorder Cups & <Saucers>');
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, last_error: null, telegram_sent_message_ids: [String(message?.message_id)] });
    expect(sent?.sent_at).toBeInstanceOf(Date);
    expect(notSent).toMatchObject({ status: 'failed', attempts: 1, sent_at: null });
    expect(notSent?.last_error).toMatch(/chat not found/);
    expect(await failed.getState()).toBe('failed');
  });

  it('when the client fails with an error that quotes its URL, then the bot token reaches neither a log line nor the stored job', async () => {
    const chatId = 1011;
    const prefix = `${testRedis.prefix}broken`;
    const brokenProducer = new Producer(connection, prefix);
    const broken = startOutboundWorker({
      db: db(),
      connection,
      prefix,
      // fetch refuses this URL and quotes it whole, token included.
      telegram: createTelegramClient({ token: TOKEN, apiRoot: 'http://bad host' }),
      secrets: [TOKEN],
      logger,
    });
    try {
      const failedOnce = new Promise<Job>((resolve) => broken.worker.once('failed', (job) => resolve(job!)));
      const messageId = await storeReply(chatId, 'Never arrives');
      const job = await brokenProducer.enqueue('telegram-outbound', 'deliver-message', { chatId: String(chatId), messageId });
      await failedOnce;

      const stored = (await Job.fromId(brokenProducer.queue('telegram-outbound'), job.id ?? ''))!;
      expect(stored.failedReason).toMatch(/Failed to parse URL from http:\/\/bad host\/bot\[redacted\]\/sendMessage/);
      expect(JSON.stringify([stored.failedReason, stored.stacktrace])).not.toContain(TOKEN);
    } finally {
      await broken.close(1000);
      await brokenProducer.close();
    }

    const secretPart = TOKEN.split(':')[1]!;
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(secretPart))).toEqual([]);
    expect(logLines.some((line) => line.includes('[redacted]'))).toBe(true);
  });
});
