import { useTestDatabase } from '@dealdome/testkit';
import { agents, newTurnEffects } from '../src';
import type { AgentToolContext } from '../src';

const VIDEO_URL = 'https://www.youtube.com/watch?v=abc';

describe("Elisa's citations", () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  const signal = new AbortController().signal;

  const context = (): AgentToolContext => ({
    db: db(),
    agent: 'elisa',
    chatId: '555000111',
    conversationId: '00000000-0000-4000-8000-000000000000',
    person: null,
    timeZone: 'Europe/Amsterdam',
    today: '2026-11-25',
    sourceMessageId: null,
    effects: newTurnEffects(),
    canHandOff: true,
    endForHandoff: () => undefined,
  });

  it("when search_knowledge finds a passage, then the prompt has Elisa link the title to the result's timestamped link, not its url", async () => {
    const video = await db()
      .insertInto('videos')
      .values({ title: 'Scaling with Meta ads', url: VIDEO_URL, transcript_format: 'srt', transcript: '(stored)', source: 'api', status: 'ready' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db()
      .insertInto('chunks')
      .values({ video_id: video.id, chunk_index: 0, content: 'Raise the lookalike budget slowly.', token_count: 9, start_seconds: '754.5', end_seconds: '760' })
      .execute();

    const { result } = await agents.elisa.tools.execute({ id: 'toolu_1', name: 'search_knowledge', input: { query: 'lookalike budget' } }, context(), signal);
    const [hit] = (JSON.parse(result.content as string) as { results: { video: string; url: string; link: string; start: string }[] }).results;
    // The tool returns both; only `link` opens the video at the passage (t= whole seconds).
    expect(hit).toMatchObject({ video: 'Scaling with Meta ads', url: VIDEO_URL, link: `${VIDEO_URL}&t=754`, start: '12:34' });

    const prompt = agents.elisa.prompt;
    expect(prompt).not.toContain('link the title when the result has a url');
    expect(prompt).toContain('When the result has a link, make the title that link');
    // Its example is a citation built from exactly such a result, written as Telegram HTML.
    expect(prompt).toContain(`(<a href="${hit!.link.replace(/&/g, '&amp;')}"><i>${hit!.video}</i></a>, ${hit!.start})`);
    expect(prompt).toMatch(/never to its url/);
  });
});
