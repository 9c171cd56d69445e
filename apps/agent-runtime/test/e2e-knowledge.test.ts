import { createUser } from '@dealdome/domain';
import { FakeAnthropic, FakeTelegram, platformServiceEnv, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { AnthropicAnswer, RecordedAnthropicRequest, ServiceProcess, TelegramCall } from '@dealdome/testkit';

const TOKEN = '5252:e2e-knowledge';
const CHAT = 8201;
const FROM = { id: CHAT, first_name: 'Sanne' };

const TITLE = 'Refunds without tears, part 3';
// A query string of its own, so the citation's t= has to be added with `&` and escaped for Telegram's HTML.
const VIDEO_URL = 'https://www.youtube.com/watch?v=Qx7refunds3';
/** Said once, at 00:12:34, in the whole transcript. */
const PHRASE = 'the turquoise walrus rule';
const PHRASE_CUE_START = 754;
const COVERED_QUESTION = 'What is the turquoise walrus rule?';
// Shares no word, stop words aside, with the transcript.
const UNCOVERED_QUESTION = 'How should we negotiate with a freight forwarder in Rotterdam?';

const FILLER = [
  'We test three new hooks for the spring campaign and keep the winners.',
  'Margins stay healthy when shipping is priced into the product itself.',
  'Customer emails get an answer within one working day, weekends included.',
  'The product page leads with the photo that sold best last month.',
  'Returned parcels are checked, restocked and logged the same afternoon.',
  'Creative fatigue shows up first as a rising cost per click.',
  'Bundles lift the average order value more than discounts ever did.',
  'Supplier samples arrive before any order above five hundred units.',
];

/**
 * An SRT of about 25 minutes: a cue every 8 seconds from 0:02, long enough for the
 * transcript to become several chunks, so a citation that points at the wrong chunk
 * (or at the video's start) carries the wrong t=. The phrase is in the cue at 00:12:34.
 */
function transcript(): string {
  const time = (seconds: number) => {
    const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(Math.floor(n)).padStart(2, '0'));
    return `${h}:${m}:${s},${seconds % 1 === 0 ? '000' : '500'}`;
  };
  const cues: string[] = [];
  for (let i = 0; i < 190; i++) {
    const start = 2 + i * 8;
    const text =
      start === PHRASE_CUE_START
        ? `Write this down, it is ${PHRASE}: refund first, ask questions later, and the review stays kind.`
        : `${FILLER[i % FILLER.length]} Point ${i + 1} of today's session.`;
    cues.push(`${i + 1}\n${time(start)} --> ${time(start + 7.5)}\n${text}\n`);
  }
  return cues.join('\n');
}

interface SearchResult {
  results: { video: string; url: string | null; link: string | null; start: string | null; end: string | null; text: string }[];
  note?: string;
}

type Block = { type: string; text?: string; content?: unknown };

const blocks = (message: unknown): Block[] => {
  const content = (message as { content: string | Block[] }).content;
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
};

/** The text of the request's newest user message: what this turn answers. */
const asked = (request: RecordedAnthropicRequest) =>
  blocks(request.messages?.at(-1))
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('\n');

/**
 * The knowledge base end to end, every service its own process: a transcript
 * uploaded in Telegram → bot-gateway stores the video and queues its ingestion →
 * embedding-worker chunks and embeds it (the local provider: no OpenAI key) →
 * the member asks Elisa → agent-runtime runs search_knowledge on the real database
 * → the reply, built from what the tool returned, reaches Telegram with the link to
 * the passage's second.
 */
describe('an uploaded transcript answered by Elisa, gateway, embedding-worker and runtime as processes', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  /** What the model was given back by search_knowledge, in order. */
  const toolResults: SearchResult[] = [];

  /** Starts a service and keeps it for afterAll at once, so one that starts while another fails is still stopped. */
  const start = async (app: string, env: Record<string, string>) => {
    const service = await startServiceProcess(app, env, { readyTimeoutMs: 60_000 });
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' }, strictHtml: true });
    anthropic = await FakeAnthropic.start();
    const common = platformServiceEnv(database, redis);
    await Promise.all([
      start('bot-gateway', {
        ...common,
        ANTHROPIC_API_KEY: 'sk-ant-e2e',
        BOT_GATEWAY_PORT: '0',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_BASE_URL: telegram.url,
        TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
      }),
      start('embedding-worker', { ...common, EMBEDDING_WORKER_PORT: '0' }),
      start('agent-runtime', { ...common, ANTHROPIC_API_KEY: 'sk-ant-e2e', AGENT_RUNTIME_PORT: '0', ANTHROPIC_BASE_URL: anthropic.url }),
    ]);

    // Elisa as a model that does what her prompt asks: search with the question, then cite
    // the first result. The answer is built only from the tool_result the runtime sent back.
    anthropic.respondWith((request): AnthropicAnswer => {
      const result = blocks(request.messages?.at(-1)).find((b) => b.type === 'tool_result');
      if (!result) return { content: [{ type: 'tool_use', name: 'search_knowledge', input: { query: asked(request) } }] };
      const found = JSON.parse(String(result.content)) as SearchResult;
      toolResults.push(found);
      const first = found.results[0];
      if (!first) return { content: 'The training videos do not cover that.' };
      return { content: `<b>${first.video}</b> covers it at ${first.start}: <a href="${first.link}">watch from there</a>.` };
    });
  }, 120_000);

  afterAll(async () => {
    // SIGTERM first (a clean shutdown); a service that has not exited in 10 s is killed.
    await Promise.all(
      running.map(async (service) => {
        const stopped = service.signal('SIGTERM');
        const timer = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
        await Promise.race([stopped, timer]);
        await service.kill();
      }),
    );
    await telegram?.close();
    await anthropic?.close();
  }, 30_000);

  const sentTo = (chatId: number): TelegramCall[] =>
    telegram.sent.filter((c) => c.method === 'sendMessage' && c.ok && String(c.chatId) === String(chatId));

  /** Warnings and errors the services logged, for a timeout's message. */
  const serviceTrouble = () =>
    running
      .flatMap((s) => s.logs.filter((l) => Number(l.level) >= 40).map((l) => `${String(l.service)}: ${String(l.msg)} ${String((l.err as { message?: string } | undefined)?.message ?? '')}`))
      .slice(-20)
      .join('\n');

  async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${serviceTrouble()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The bot's next message in the chat after the `seen` ones, as Telegram shows it (text and entities). */
  const botMessageAfter = (seen: number, what: string) =>
    until(() => telegram.messages(CHAT).filter((m) => m.from?.is_bot)[seen], what);

  it('when a member uploads an .srt with its title and address and asks Elisa about a phrase in it, then the reply cites the video with t= at the start of the chunk holding the phrase; a question it does not cover gets no results', async () => {
    const db = database.handle.db;
    const { user } = await createUser(db, { email: 'sanne@dealdome.test', displayName: 'Sanne Bakker', telegramUserId: String(CHAT) });
    const srt = transcript();

    // 1. The upload, with the title and the video's address as the caption's two lines.
    telegram.sendDocument({ chatId: CHAT, from: FROM, fileName: 'refunds-3.srt', content: srt, mimeType: 'application/x-subrip', caption: `${TITLE}\n${VIDEO_URL}` });
    const ack = await botMessageAfter(0, "the gateway's acknowledgement of the upload");
    expect(ack.text).toContain(`Got the transcript “${TITLE}”`);
    expect(ack.text).toContain(VIDEO_URL);

    // 2. The embedding-worker makes it searchable: every chunk has a vector, the video is ready.
    const video = await until(async () => {
      const row = await db.selectFrom('videos').select(['id', 'status', 'error', 'url', 'title', 'created_by']).where('title', '=', TITLE).executeTakeFirst();
      if (row?.status === 'failed') throw new Error(`the video failed to ingest: ${row.error}`);
      if (row?.status !== 'ready') return undefined;
      const pending = await db.selectFrom('chunks').select('id').where('video_id', '=', row.id).where('embedding', 'is', null).execute();
      return pending.length === 0 ? row : undefined;
    }, 'the video to be ingested and every chunk embedded', 60_000);
    expect(video).toMatchObject({ url: VIDEO_URL, created_by: user.id });
    const chunks = await db
      .selectFrom('chunks')
      .select(['id', 'chunk_index', 'content', 'start_seconds', 'embedding_model'])
      .where('video_id', '=', video.id)
      .orderBy('chunk_index')
      .execute();
    expect(chunks.length).toBeGreaterThan(3);
    expect(new Set(chunks.map((c) => c.embedding_model))).toEqual(new Set(['local-hashing-v1']));

    // 3. The member switches to Elisa and asks about the phrase.
    telegram.sendUserMessage({ chatId: CHAT, from: FROM, text: '/elisa' });
    expect((await botMessageAfter(1, 'the /elisa confirmation')).text).toContain('You are now talking to Elisa');
    telegram.sendUserMessage({ chatId: CHAT, from: FROM, text: COVERED_QUESTION });
    const answer = await botMessageAfter(2, "Elisa's answer");

    // The model searched with the question and was given the chunk that holds the phrase first.
    const first = toolResults[0]?.results[0];
    expect(first).toBeDefined();
    const cited = chunks.find((c) => c.content === first!.text);
    expect(cited?.content).toContain(PHRASE);
    const startSeconds = Number(cited!.start_seconds!.split('.')[0]);
    // A chunk starts at or before the cue it holds, and this one is not the video's first.
    expect(startSeconds).toBeLessThanOrEqual(PHRASE_CUE_START);
    expect(startSeconds).toBeGreaterThan(2);
    const link = `${VIDEO_URL}&t=${startSeconds}`;
    expect(first).toMatchObject({ video: TITLE, url: VIDEO_URL, link });

    // Telegram shows the title and a link to that second of the video.
    expect(answer.text).toContain(TITLE);
    expect(answer.entities).toContainEqual(expect.objectContaining({ type: 'text_link', url: link }));
    const sent = sentTo(CHAT).at(-1)!;
    expect(sent.params).toMatchObject({ parse_mode: 'HTML' });
    expect(String(sent.params.text)).toContain(`href="${VIDEO_URL}&amp;t=${startSeconds}"`);

    // 4. A question the transcript does not cover: the tool answers no results and says so.
    telegram.sendUserMessage({ chatId: CHAT, from: FROM, text: UNCOVERED_QUESTION });
    const notCovered = await botMessageAfter(3, "Elisa's answer to the uncovered question");
    expect(toolResults).toHaveLength(2);
    expect(toolResults[1]).toEqual({
      results: [],
      note: 'Nothing in the knowledge base matches these words. Try other words, or say the videos do not cover it.',
    });
    expect(notCovered.text).toBe('The training videos do not cover that.');
    expect(notCovered.entities ?? []).toEqual([]);

    // Each search was the member's question, searched by Elisa with a query vector (hybrid), and recorded.
    const searches = await db
      .selectFrom('search_metrics')
      .select(['query', 'mode', 'agent', 'user_id', 'result_count', 'embedding_model'])
      .orderBy('created_at')
      .execute();
    expect(searches).toEqual([
      { query: COVERED_QUESTION, mode: 'hybrid', agent: 'elisa', user_id: user.id, result_count: expect.any(Number), embedding_model: 'local-hashing-v1' },
      { query: UNCOVERED_QUESTION, mode: 'hybrid', agent: 'elisa', user_id: user.id, result_count: 0, embedding_model: 'local-hashing-v1' },
    ]);
    expect(searches[0]!.result_count).toBeGreaterThanOrEqual(1);
    expect(anthropic.requests.filter((r) => r.status === 200)).toHaveLength(4);
  }, 120_000);
});
