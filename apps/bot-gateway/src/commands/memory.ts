import { createMemory, forgetMemory, getVisibleMemory, listMemories, MAX_MEMORY_LENGTH, personalMemoriesShownIn } from '@dealdome/domain';
import type { Memory } from '@dealdome/domain';
import { clip, esc } from '../html';
import type { MemberContext } from '../context';
import type { Command } from './registry';

/** Buttons offered by /forget: Telegram keyboards stay usable at about this many rows. */
const FORGET_CHOICES = 10;
const LISTED_MEMORIES = 30;

const scopeLabel = (memory: Memory) => (memory.scope === 'team' ? 'team' : 'only you');

/** Whose personal memories this chat may show besides the team's (personalMemoriesShownIn). */
const visibleOwner = (ctx: MemberContext): string | null => personalMemoriesShownIn(ctx.chatId, ctx.member.id);
const groupNote = (ctx: MemberContext) => (ctx.isPrivate ? '' : ' Your personal memories are shown only in a private chat with me.');

export const memoryCommands: Command[] = [
  {
    name: 'remember',
    usage: 'text',
    description: 'keep something in the team’s long-term memory',
    handle: async (ctx, args, _invokedAs, source) => {
      const text = args.trim();
      if (text === '') {
        await ctx.reply('What should I remember? For example: /remember Our supplier ships on Tuesdays.');
        return;
      }
      if (text.length > MAX_MEMORY_LENGTH) {
        await ctx.reply(`That is ${text.length} characters; a memory holds at most ${MAX_MEMORY_LENGTH}.`);
        return;
      }
      await ctx.transaction(async (trx) => {
        const { memory, refreshed } = await createMemory(trx, {
          id: ctx.rowId('memory'),
          scope: 'team',
          userId: null,
          kind: 'fact',
          content: text,
          sourceMessageId: source.messageId,
        });
        await ctx.reply(
          refreshed
            ? `I already remember that for the team: “${esc(clip(memory.content, 300))}” — kept once, marked as fresh.`
            : `Remembered for the team: “${esc(clip(memory.content, 300))}”`,
          { db: trx },
        );
        // Refreshed too: the worker skips a memory that has its vector and embeds one whose first job never ran.
        ctx.queueMemoryEmbedding(memory.id);
      });
    },
  },
  {
    name: 'memories',
    description: 'list what is remembered (the team’s and yours)',
    handle: async (ctx) => {
      const memories = await listMemories(ctx.db, { userId: visibleOwner(ctx), limit: LISTED_MEMORIES });
      if (memories.length === 0) {
        await ctx.reply(`Nothing is remembered yet. Use /remember to add something.${groupNote(ctx)}`);
        return;
      }
      const lines = memories.map(
        (m, i) => `${i + 1}. ${esc(clip(m.content, 200))} <i>(${scopeLabel(m)}, ${m.createdAt.toISOString().slice(0, 10)})</i>`,
      );
      await ctx.reply([`<b>Memories</b> (newest first)`, ...lines, '', `Use /forget to remove one.${groupNote(ctx)}`].join('\n'));
    },
  },
  {
    name: 'forget',
    description: 'remove a memory (pick it, then confirm)',
    handle: async (ctx) => {
      const memories = await listMemories(ctx.db, { userId: visibleOwner(ctx), limit: FORGET_CHOICES });
      if (memories.length === 0) {
        await ctx.reply(`Nothing is remembered, so there is nothing to forget.${groupNote(ctx)}`);
        return;
      }
      const lines = memories.map((m, i) => `${i + 1}. ${esc(clip(m.content, 120))}`);
      await ctx.reply(['Which memory should I forget?', ...lines].join('\n'), {
        replyMarkup: {
          inline_keyboard: [
            ...memories.map((m, i) => [{ text: `${i + 1}. ${clip(m.content, 40)}`, callback_data: `forget:pick:${m.id}` }]),
            [{ text: 'Cancel', callback_data: 'forget:no' }],
          ],
        },
      });
    },
    onCallback: async (ctx, action, memoryId) => {
      if (action === 'no') {
        await ctx.reply('Nothing was forgotten.');
        return;
      }
      const memory = memoryId ? await getVisibleMemory(ctx.db, { id: memoryId, userId: visibleOwner(ctx) }) : undefined;
      if (!memory) {
        await ctx.reply('That memory is already gone.');
        return;
      }
      if (action === 'pick') {
        await ctx.reply(`Forget “${esc(clip(memory.content, 300))}”?`, {
          replyMarkup: {
            inline_keyboard: [
              [
                { text: 'Yes, forget it', callback_data: `forget:yes:${memory.id}` },
                { text: 'No, keep it', callback_data: 'forget:no' },
              ],
            ],
          },
        });
        return;
      }
      if (action === 'yes') {
        await ctx.transaction(async (trx) => {
          const forgotten = await forgetMemory(trx, { id: memory.id, userId: ctx.member.id, reason: `/forget by ${ctx.member.email}` });
          await ctx.reply(forgotten ? `Forgotten: “${esc(clip(forgotten.content, 300))}”` : 'That memory is already gone.', { db: trx });
        });
      }
    },
  },
];
