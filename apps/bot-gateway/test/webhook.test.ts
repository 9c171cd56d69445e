import { freePort } from '@dealdome/testkit';
import { chatMessages, processed, replies, TOKEN, useGateway } from './harness';

const gateway = useGateway();
const SECRET = 'webhook-secret-0123456789';

describe('bot-gateway intake (webhook)', () => {
  it('when updates are posted with a wrong or no secret, then they are refused with 401 and nothing is stored; with the right one, 200 and stored', async () => {
    const port = await freePort();
    await gateway.member(901);
    const url = `http://127.0.0.1:${port}/telegram/webhook`;
    await gateway.start({ BOT_GATEWAY_PORT: String(port), TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: SECRET });
    const update = (updateId: number) => ({
      update_id: updateId,
      message: { message_id: updateId, date: 1, chat: { id: 901, type: 'private' }, from: { id: 901, is_bot: false, first_name: 'W' }, text: '/help' },
    });
    const post = (body: unknown, secret?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret !== undefined && { 'x-telegram-bot-api-secret-token': secret }) },
        body: JSON.stringify(body),
      });

    expect((await post(update(880001), 'wrong-secret-0123456789')).status).toBe(401);
    expect((await post(update(880002))).status).toBe(401);
    const recorded = await gateway.db.selectFrom('telegram_updates').select('update_id').execute();
    expect(recorded).toEqual([]);
    expect(await chatMessages(gateway.db, 901)).toEqual([]);

    const accepted = await post(update(880003), SECRET);
    expect(accepted.status).toBe(200);
    await processed(gateway.db, 880003);
    expect((await chatMessages(gateway.db, 901)).map((m) => m.role)).toEqual(['user', 'assistant']);

    expect((await post({ nonsense: true }, SECRET)).status).toBe(400);
  });

  it('when Telegram pushes updates to the registered webhook, then each is recorded and answered', async () => {
    const port = await freePort();
    await gateway.member(902);
    const url = `http://127.0.0.1:${port}/hook`;
    const { telegram } = await gateway.start({ BOT_GATEWAY_PORT: String(port), TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: SECRET });
    await expect(telegram.waitForSent((c) => c.method === 'setWebhook' && c.ok)).resolves.toMatchObject({
      params: { url, secret_token: SECRET },
    });
    expect(TOKEN).toMatch(/^\d+:/);
    telegram.sendUserMessage({ chatId: 902, from: { id: 902 }, text: '/help' });
    telegram.sendUserMessage({ chatId: 902, from: { id: 902 }, text: '/memories' });
    const [help, memories] = await replies(gateway.db, 902, 2);
    expect(help!.text).toContain('these commands work');
    expect(memories!.text).toContain('Nothing is remembered yet');
    expect(telegram.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
  });
});
