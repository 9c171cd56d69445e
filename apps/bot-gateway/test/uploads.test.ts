import { createStore, MAX_TRANSCRIPT_CHARACTERS } from '@dealdome/domain';
import { ingestTranscriptJobId } from '../src/ids';
import { chatMessages, eventually, processed, replies, useGateway } from './harness';

const gateway = useGateway();

describe('bot-gateway uploads', () => {
  let storeId: string;
  beforeAll(async () => {
    storeId = (await createStore(gateway.db, { name: 'Nordic Home', shopDomain: 'nordic-home.myshopify.com', currency: 'EUR', timezone: 'UTC' })).id;
  });

  it('when an ad-spend CSV is sent and there is one store, then it is imported into that store and summed up', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(801);
    const csv = 'Date,Platform,Amount,Currency,Campaign\n2026-05-01,meta,120.50,EUR,Spring\n2026-05-01,google,30.00,EUR,\n2026-05-02,meta,9.50,EUR,Spring\n';
    telegram.sendDocument({ chatId: 801, from: { id: 801 }, fileName: 'ads.csv', content: csv, mimeType: 'text/csv' });
    const [reply] = await replies(gateway.db, 801, 1);
    expect(reply!.text).toContain('Imported 3 ad-spend entries into Nordic Home.');
    expect(reply!.text).toContain('meta 130.00 · google 30.00 EUR');
    const entries = await gateway.db.selectFrom('ad_spend_entries').select(['store_id', 'amount', 'platform']).orderBy('date').orderBy('platform').execute();
    expect(entries).toEqual([
      { store_id: storeId, amount: '30.0000', platform: 'google' },
      { store_id: storeId, amount: '120.5000', platform: 'meta' },
      { store_id: storeId, amount: '9.5000', platform: 'meta' },
    ]);
    expect((await chatMessages(gateway.db, 801, 'user'))[0]!.text).toBe('[file ads.csv]');
  });

  it('when a CSV has bad rows, then nothing is imported and the reply names each bad row', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(802);
    const before = await gateway.db.selectFrom('ad_spend_entries').select('id').execute();
    const csv = 'date,platform,amount,currency\n2026-05-01,meta,12.50,EUR\n2026-13-01,meta,abc,EUR\n2026-05-03,myspace,5,EUR\n';
    telegram.sendDocument({ chatId: 802, from: { id: 802 }, fileName: 'bad.csv', content: csv, caption: 'nordic home' });
    const [reply] = await replies(gateway.db, 802, 1);
    expect(reply!.text).toContain('Nothing was imported: 2 rows have errors (the header is row 1).');
    expect(reply!.text).toMatch(/Row 3: date .*is not a calendar date · amount "abc" is not a decimal amount/);
    expect(reply!.text).toMatch(/Row 4: platform "myspace"; expected one of meta/);
    expect(await gateway.db.selectFrom('ad_spend_entries').select('id').execute()).toEqual(before);
  });

  it('when a 25 MB document is sent, then the reply says it is too large and the file is never fetched', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(803);
    telegram.sendDocument({ chatId: 803, from: { id: 803 }, fileName: 'webinar.txt', content: 'x', fileSize: 25 * 1024 * 1024 });
    const [reply] = await replies(gateway.db, 803, 1);
    expect(reply!.text).toBe('“webinar.txt” is 25.0 MB; Telegram lets bots download files of at most 20 MB. Split it into smaller files and send them one by one.');
    expect(telegram.sent.filter((c) => c.method === 'getFile')).toEqual([]);
  });

  it('when a transcript is sent, then a video is stored with it and queued for ingestion', async () => {
    const { telegram } = await gateway.start();
    const member = await gateway.member(804);
    const srt = '1\n00:00:01,000 --> 00:00:04,000\nWelcome to the ads masterclass.\n';
    const update = telegram.sendDocument({ chatId: 804, from: { id: 804 }, fileName: 'masterclass.srt', content: srt, caption: 'Ads masterclass, part 1' });
    await processed(gateway.db, update.update_id);
    const video = await gateway.db.selectFrom('videos').selectAll().executeTakeFirstOrThrow();
    expect(video).toMatchObject({ title: 'Ads masterclass, part 1', url: null, transcript: srt, transcript_format: 'srt', source: 'telegram', status: 'pending', created_by: member.id });
    const job = await eventually(async () => (await gateway.jobs('embeddings')).find((j) => j.name === 'ingest-transcript'), 'the ingest job');
    expect(job).toMatchObject({ id: ingestTranscriptJobId(video.id), data: { videoId: video.id } });
    const reply = (await replies(gateway.db, 804, 1))[0]!.text;
    expect(reply).toContain('Got the transcript “Ads masterclass, part 1” (64 characters). It is queued');
    expect(reply).toContain("end the caption with the video's address");
  });

  it("when a transcript's caption ends with the video's address, then the video is stored with that url and the title without it", async () => {
    const { telegram } = await gateway.start();
    await gateway.member(806);
    const srt = '1\n00:00:01,000 --> 00:00:04,000\nWelcome back.\n';
    const captions = [
      ['Ads masterclass, part 2\nhttps://www.youtube.com/watch?v=Zx9&list=PL1', 'Ads masterclass, part 2', 'https://www.youtube.com/watch?v=Zx9&list=PL1'],
      ['Scaling 101 https://vimeo.com/76979871', 'Scaling 101', 'https://vimeo.com/76979871'],
      // Only an address: the title comes from the file name.
      ['https://youtu.be/abc', 'creatives', 'https://youtu.be/abc'],
      // An address that is not the last word is part of the title.
      ['See https://example.com first', 'See https://example.com first', null],
    ] as const;
    for (const [caption] of captions) {
      const update = telegram.sendDocument({ chatId: 806, from: { id: 806 }, fileName: 'creatives.srt', content: srt, caption });
      await processed(gateway.db, update.update_id);
    }
    const videos = await gateway.db.selectFrom('videos').select(['title', 'url']).orderBy('created_at').execute();
    expect(videos.slice(-4)).toEqual(captions.map(([, title, url]) => ({ title, url })));
    // The reply names the address, escaped for Telegram's HTML (the fake refuses a bare &).
    const texts = (await replies(gateway.db, 806, 4)).map((r) => r.text);
    expect(texts[0]).toContain('Got the transcript “Ads masterclass, part 2” (46 characters) of https://www.youtube.com/watch?v=Zx9&amp;list=PL1. It is queued');
    expect(texts[3]).toContain("end the caption with the video's address");
  });

  it('when a transcript is longer than the API allows, then the reply says so and no video is stored or queued; one at the limit is stored', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(807);
    const videos = () => gateway.db.selectFrom('videos').select(['id', 'title']).execute();
    const ingestJobs = async () => (await gateway.jobs('embeddings')).filter((j) => j.name === 'ingest-transcript').length;
    const videosBefore = (await videos()).length;
    const jobsBefore = await ingestJobs();

    const tooLong = telegram.sendDocument({ chatId: 807, from: { id: 807 }, fileName: 'marathon.txt', content: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS + 1), caption: 'Marathon' });
    await processed(gateway.db, tooLong.update_id);
    expect((await replies(gateway.db, 807, 1))[0]!.text).toBe(
      '“marathon.txt” is 500,001 characters; a transcript may have at most 500,000 characters (about ten hours of captions). ' +
        'Nothing was stored: split it into parts and send them one by one.',
    );
    expect((await videos()).length).toBe(videosBefore);
    expect(await ingestJobs()).toBe(jobsBefore);
    // What was sent is kept in the conversation, as for every upload.
    expect((await chatMessages(gateway.db, 807, 'user'))[0]!.text).toBe('[file marathon.txt] Marathon');

    // A file larger than that many characters can be in UTF-8 is refused without being fetched.
    telegram.sendDocument({ chatId: 807, from: { id: 807 }, fileName: 'marathon.srt', content: 'x', fileSize: 3 * 1024 * 1024 });
    expect((await replies(gateway.db, 807, 2))[1]!.text).toBe(
      '“marathon.srt” is 3.0 MB; a transcript may have at most 500,000 characters (about ten hours of captions). ' +
        'Nothing was stored: split it into parts and send them one by one.',
    );
    expect(telegram.sent.filter((c) => c.method === 'getFile')).toHaveLength(1);

    const atLimit = telegram.sendDocument({ chatId: 807, from: { id: 807 }, fileName: 'long.txt', content: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS), caption: 'Long but fine' });
    await processed(gateway.db, atLimit.update_id);
    expect((await videos()).map((v) => v.title)).toContain('Long but fine');
    expect((await replies(gateway.db, 807, 3))[2]!.text).toContain('Got the transcript “Long but fine” (500,000 characters).');
    await eventually(async () => ((await ingestJobs()) === jobsBefore + 1 ? true : undefined), 'the ingest job of the transcript at the limit');
  });

  it('when a file of another kind is sent, then the reply says which kinds are read', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(805);
    telegram.sendDocument({ chatId: 805, from: { id: 805 }, fileName: 'logo.png', content: Buffer.from([0x89, 0x50]) });
    expect((await replies(gateway.db, 805, 1))[0]!.text).toContain('is neither');
    expect(telegram.sent.filter((c) => c.method === 'getFile')).toEqual([]);
  });
});
