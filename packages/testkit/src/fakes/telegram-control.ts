import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientGone, readBody, sendJson } from './http';
import type { ChatType, FakeTelegram, UserInput } from './telegram';

/**
 * The local Telegram emulator's control API under /_emulator/, for a chat client
 * in another process to play the users; telegram-server.ts documents the routes.
 */
export async function handleEmulatorControl(
  fake: FakeTelegram,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '')}`;
  const fail = (status: number, message: string) => sendJson(res, status, { error: message });
  const input = async (): Promise<Record<string, unknown>> => {
    const body = await readBody(req, 32 * 1024 * 1024);
    if (body.length === 0) return {};
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  };
  const userOf = (body: Record<string, unknown>, chatId: number): UserInput => {
    const from = body.from as UserInput | undefined;
    if (from && typeof from.id === 'number') return from;
    return { id: chatId, first_name: 'Local user', username: 'local_user' };
  };
  try {
    if (route === 'POST /_emulator/messages') {
      const body = await input();
      const chatId = Number(body.chatId);
      if (!Number.isSafeInteger(chatId) || typeof body.text !== 'string')
        return fail(400, 'chatId (integer) and text (string) are required');
      const update = fake.sendUserMessage({
        chatId,
        from: userOf(body, chatId),
        text: body.text,
        ...(typeof body.chatType === 'string' ? { chatType: body.chatType as ChatType } : {}),
        ...(typeof body.chatTitle === 'string' ? { chatTitle: body.chatTitle } : {}),
        ...(typeof body.replyToMessageId === 'number' ? { replyToMessageId: body.replyToMessageId } : {}),
      });
      return sendJson(res, 201, { update });
    }
    if (route === 'POST /_emulator/callbacks') {
      const body = await input();
      const chatId = Number(body.chatId);
      if (!Number.isSafeInteger(chatId) || typeof body.messageId !== 'number' || typeof body.data !== 'string') {
        return fail(400, 'chatId (integer), messageId (integer) and data (string) are required');
      }
      const update = fake.sendCallback({ chatId, from: userOf(body, chatId), messageId: body.messageId, data: body.data });
      return sendJson(res, 201, { update });
    }
    if (route === 'POST /_emulator/documents') {
      const body = await input();
      const chatId = Number(body.chatId);
      const content =
        typeof body.contentBase64 === 'string'
          ? Buffer.from(body.contentBase64, 'base64')
          : typeof body.text === 'string'
            ? body.text
            : undefined;
      if (!Number.isSafeInteger(chatId) || typeof body.fileName !== 'string' || content === undefined) {
        return fail(400, 'chatId (integer), fileName (string) and contentBase64 or text are required');
      }
      const update = fake.sendDocument({
        chatId,
        from: userOf(body, chatId),
        fileName: body.fileName,
        content,
        ...(typeof body.mimeType === 'string' ? { mimeType: body.mimeType } : {}),
        ...(typeof body.caption === 'string' ? { caption: body.caption } : {}),
      });
      return sendJson(res, 201, { update });
    }
    if (route === 'GET /_emulator/chats') {
      return sendJson(res, 200, { chats: fake.knownChats() });
    }
    const history = /^GET \/_emulator\/chats\/(-?\d+)\/messages$/.exec(route);
    if (history) {
      const chatId = Number(history[1]);
      const after = Number(url.searchParams.get('after') ?? 0) || 0;
      const timeoutSeconds = Math.min(60, Math.max(0, Number(url.searchParams.get('timeout') ?? 0) || 0));
      if (timeoutSeconds > 0) await fake.waitForChange(chatId, after, timeoutSeconds * 1000, clientGone(req, res));
      const { entries, revision } = fake.changesSince(chatId, after);
      return sendJson(res, 200, { messages: entries, next: revision });
    }
    if (route === 'GET /_emulator/calls') {
      const method = url.searchParams.get('method');
      const after = Number(url.searchParams.get('after') ?? 0) || 0;
      const calls = fake.sent.slice(after).filter((c) => (method ? c.method === method : c.method !== 'getUpdates'));
      return sendJson(res, 200, { calls, next: fake.sent.length });
    }
    if (route === 'GET /_emulator/webhook') {
      return sendJson(res, 200, fake.webhookInfo);
    }
    return fail(404, `no emulator route ${route}`);
  } catch (err) {
    return fail(400, (err as Error).message);
  }
}
