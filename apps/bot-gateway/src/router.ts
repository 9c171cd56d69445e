import { AppError, appendMessage, findUserByTelegramId, openConversation, redeemTelegramLinkCode, startNewConversation, textBlocks } from '@dealdome/domain';
import type { User } from '@dealdome/domain';
import type { CallbackQuery, Message, MessageEntity } from 'node-telegram-bot-api';
import type { CommandRegistry } from './commands';
import { UpdateContext } from './context';
import type { GatewayDeps, MemberContext } from './context';
import { esc } from './html';
import { refusalMessageId } from './ids';
import type { PendingJob } from './jobs';
import type { BotIdentity, IncomingUpdate } from './telegram';
import { handleDocument } from './uploads';

/** Failed /link attempts a Telegram user gets per hour before further ones are ignored. */
const LINK_ATTEMPTS_PER_HOUR = 5;

export const REFUSAL_TEXT =
  'Hello! I work only for the DealDome team. If you are on the team, ask an admin for a link code and send it here as /link CODE.';

interface ParsedCommand {
  name: string;
  args: string;
}

/** A command at the start of the text, unless it is addressed to another bot (/pnl@otherbot). */
function parseCommand(message: Message, bot: BotIdentity): ParsedCommand | 'other-bot' | undefined {
  const text = message.text ?? '';
  const entity = message.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text);
  if (!match || (!entity && message.entities !== undefined)) return undefined;
  const [, name = '', addressee, args = ''] = match;
  if (addressee && addressee.toLowerCase() !== bot.username.toLowerCase()) return 'other-bot';
  return { name: name.toLowerCase(), args };
}

/** A mention entity naming the bot, or its @username in the text (not every client sends the entity). */
function mentionsBot(text: string, entities: MessageEntity[] | undefined, bot: BotIdentity): boolean {
  const handle = `@${bot.username.toLowerCase()}`;
  const byEntity = (entities ?? []).some(
    (e) =>
      (e.type === 'mention' && text.slice(e.offset, e.offset + e.length).toLowerCase() === handle) ||
      (e.type === 'text_mention' && e.user?.id === bot.id),
  );
  return byEntity || (bot.username !== '' && new RegExp(`(^|[^\\w@])${handle}(?![\\w])`, 'i').test(text));
}

/**
 * Decides what an update means and does it: commands, inline-button presses,
 * uploads and free text from the team; one polite refusal for anyone else. In
 * groups only commands, mentions of the bot and replies to it are for the bot.
 */
export class Router {
  constructor(
    private readonly deps: GatewayDeps,
    private readonly commands: CommandRegistry,
  ) {}

  /**
   * The team member who sent the update, looked up: what `route` reads first. The
   * processor starts it while it takes the update's lock, a read that is harmless when
   * the lock turns out to be someone else's. Undefined for an update from no one.
   */
  lookUpSender(update: IncomingUpdate): Promise<User | undefined> | undefined {
    const from = update.callback_query?.from ?? update.message?.from;
    return from ? findUserByTelegramId(this.deps.db, from.id) : undefined;
  }

  /**
   * Handles the update and returns the jobs to queue once it is done. `sender` is
   * `lookUpSender(update)` when the caller started it already.
   */
  async route(update: IncomingUpdate, sender?: Promise<User | undefined>): Promise<PendingJob[]> {
    const bot = await this.deps.bot();
    if (update.callback_query) {
      return this.withBoundary(await this.callbackContext(update, update.callback_query, sender), (ctx) => this.callback(ctx, update.callback_query!));
    }
    const message = update.message;
    if (!message?.from || message.from.is_bot || message.chat.type === 'channel') return [];
    const member = await (sender ?? findUserByTelegramId(this.deps.db, message.from.id));
    const ctx = new UpdateContext(this.deps, update, message.chat, message.from, member);
    return this.withBoundary(ctx, () => this.message(ctx, message, bot));
  }

  private async callbackContext(update: IncomingUpdate, query: CallbackQuery, sender?: Promise<User | undefined>): Promise<UpdateContext | undefined> {
    // The spinner on the button stops only when the press is answered: do it before anything else.
    await this.deps.telegram.answerCallbackQuery(query.id).catch((err: unknown) => {
      this.deps.logger.warn({ updateId: update.update_id, err: { message: (err as Error).message } }, 'answering the callback query failed');
    });
    if (!query.message || !query.data) return undefined;
    const member = await (sender ?? findUserByTelegramId(this.deps.db, query.from.id));
    return new UpdateContext(this.deps, update, query.message.chat, query.from, member);
  }

  /** Errors reach the person as one reply; an error that cannot even be replied to is thrown, and the update is retried. */
  private async withBoundary(ctx: UpdateContext | undefined, work: (ctx: UpdateContext) => Promise<void>): Promise<PendingJob[]> {
    if (!ctx) return [];
    try {
      await work(ctx);
    } catch (err) {
      const known = err instanceof AppError && err.status < 500;
      ctx.log[known ? 'warn' : 'error']({ err }, 'handling the update failed');
      await ctx.reply(known ? esc(err.message) : 'Something went wrong on my side while handling that. Please try again in a moment.');
    }
    return ctx.jobs;
  }

  private async message(ctx: UpdateContext, message: Message, bot: BotIdentity): Promise<void> {
    const text = message.text ?? '';
    const command = message.text ? parseCommand(message, bot) : undefined;
    if (command === 'other-bot') return;
    const caption = message.caption ?? '';
    const addressed =
      ctx.isPrivate ||
      command !== undefined ||
      mentionsBot(text, message.entities, bot) ||
      mentionsBot(caption, message.caption_entities, bot) ||
      message.reply_to_message?.from?.id === bot.id;
    if (!addressed) return;

    if (!ctx.member) {
      if (command?.name === 'link') await this.link(ctx, command.args);
      else await this.refuseOnce(ctx);
      return;
    }
    const member = ctx as MemberContext;

    if (command) {
      const handler = this.commands.find(command.name);
      const stored = await member.storeUserMessage(text, { answered: true, telegramMessageId: message.message_id });
      if (!handler) {
        await member.reply(`I do not know /${esc(command.name)}. /help lists what I can do.`);
        return;
      }
      await handler.handle(member, command.args, command.name, { messageId: stored.id });
      return;
    }
    if (message.document) {
      await handleDocument(member, message.document, caption.replace(`@${bot.username}`, '').trim(), message.message_id);
      return;
    }
    if (text.trim() === '') {
      if (ctx.isPrivate) await member.reply('I read text, commands and files (.csv ad spend, .txt/.srt/.vtt transcripts).');
      return;
    }
    await this.freeText(member, text, message.message_id);
  }

  /** Free text goes to the conversation's agent; with the agents offline it is answered here, and nothing goes to a model. */
  private async freeText(ctx: MemberContext, text: string, telegramMessageId: number): Promise<void> {
    const online = this.deps.agentsOnline;
    const { id, conversation } = await ctx.storeUserMessage(text, { answered: !online, telegramMessageId });
    if (online) {
      ctx.queueTurn(conversation.id, id);
      return;
    }
    await ctx.reply(
      ['The agents are offline right now (no Anthropic API key is configured), so I cannot answer free text. These commands work:', ...this.commands.helpLines()].join('\n'),
    );
  }

  private async callback(ctx: UpdateContext, query: CallbackQuery): Promise<void> {
    if (!ctx.member) {
      await this.refuseOnce(ctx);
      return;
    }
    const data = query.data ?? '';
    const handler = this.commands.buttonHandler(data);
    if (!handler) {
      ctx.log.warn({ data }, 'a button press no handler owns');
      return;
    }
    await handler(ctx as MemberContext, data);
  }

  /**
   * /link CODE from someone not (yet) on the team. Failed attempts are counted per
   * Telegram user: past the hourly limit they are ignored, so codes cannot be guessed here.
   */
  private async link(ctx: UpdateContext, args: string): Promise<void> {
    const code = args.trim();
    const attemptsKey = `${this.deps.keyPrefix}:bot-gateway:link-attempts:${ctx.from.id}`;
    const attempts = Number((await this.deps.redis.get(attemptsKey)) ?? '0');
    if (attempts >= LINK_ATTEMPTS_PER_HOUR) {
      ctx.log.warn({ telegramUserId: ctx.from.id }, 'link attempts over the limit; ignored');
      return;
    }
    if (code === '') {
      await ctx.reply('Send the code an admin gave you, like this: /link ABCDE-FGHJK');
      return;
    }
    const outcome = await ctx.transaction(async (trx) => {
      const result = await redeemTelegramLinkCode(trx, code, ctx.from.id);
      if (!result.linked) return result;
      // A fresh conversation that belongs to the person, not the stranger's one.
      await startNewConversation(trx, { chatId: ctx.chat.id, userId: result.user.id });
      ctx.member = result.user;
      await ctx.reply(
        `Welcome, ${esc(result.user.displayName)}! Your Telegram account is now linked to ${esc(result.user.email)}. Send /help to see what I can do.`,
        { db: trx },
      );
      return result;
    });
    if (outcome.linked) return;
    await this.deps.redis.multi().incr(attemptsKey).expire(attemptsKey, 3600).exec();
    const why = {
      unknown: 'That code is not valid.',
      used: 'That code has been used already.',
      expired: 'That code has expired.',
      telegram_taken: 'This Telegram account is already linked to another team member.',
    }[outcome.reason];
    await ctx.reply(`${why} Ask an admin for a new one (pnpm dealdome users:link-code --email …).`);
  }

  /**
   * The one reply a stranger ever gets. Its id is derived from their Telegram user
   * id, so the insert decides: the first time it stores the refusal, every later time
   * it stores nothing and nothing is sent.
   */
  private async refuseOnce(ctx: UpdateContext): Promise<void> {
    const conversation = await openConversation(this.deps.db, { chatId: ctx.chat.id, userId: null });
    const { id, inserted } = await appendMessage(this.deps.db, {
      id: refusalMessageId(ctx.from.id),
      conversationId: conversation.id,
      role: 'assistant',
      content: textBlocks(esc(REFUSAL_TEXT)),
    });
    if (inserted) {
      ctx.log.info({ telegramUserId: ctx.from.id }, 'someone not on the team wrote; refused once');
      ctx.jobs.push({ kind: 'deliver', chatId: ctx.chatId, messageId: id });
    } else {
      ctx.log.debug({ telegramUserId: ctx.from.id }, 'someone not on the team wrote again; ignored');
    }
  }
}
