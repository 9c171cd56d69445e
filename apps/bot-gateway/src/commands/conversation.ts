import { agentNames, dropUnansweredMessages, isAgentName, setConversationAgent, startNewConversation } from '@dealdome/domain';
import type { AgentName } from '@dealdome/domain';
import { esc } from '../html';
import type { Command, CommandRegistry } from './registry';

export const agentTitles: Record<AgentName, string> = {
  alfred: 'Alfred, chief of staff: memories, reminders, recurring checks',
  roos: 'Roos, finance: P&L, ROAS, products, ad spend, costs',
  elisa: 'Elisa, knowledge: answers from the training videos, with sources',
};

const agentName = (agent: AgentName) => agent.charAt(0).toUpperCase() + agent.slice(1);

export function helpCommands(registry: () => CommandRegistry): Command[] {
  const helpText = (agentsOnline: boolean) =>
    [
      agentsOnline
        ? 'Write to me in plain words and the agent of this conversation answers. Commands:'
        : 'The agents are offline right now, but these commands work:',
      ...registry().helpLines(),
    ].join('\n');

  return [
    {
      name: 'start',
      description: 'say hello and show what I can do',
      handle: async (ctx) => {
        await ctx.reply(`Hello ${esc(ctx.member.displayName)}! I am DealDome's bot.\n\n${helpText(ctx.deps.agentsOnline)}`);
      },
    },
    {
      name: 'help',
      description: 'list the commands',
      handle: async (ctx) => {
        await ctx.reply(helpText(ctx.deps.agentsOnline));
      },
    },
    {
      name: 'link',
      usage: 'CODE',
      description: 'link your Telegram account with the code an admin gave you',
      handle: async (ctx) => {
        await ctx.reply(`This Telegram account is already linked to ${esc(ctx.member.email)}.`);
      },
    },
  ];
}

export const conversationCommands: Command[] = [
  {
    name: 'agent',
    aliases: [...agentNames],
    usage: 'alfred|roos|elisa',
    description: 'choose who answers in this conversation',
    handle: async (ctx, args, invokedAs) => {
      const wanted = (invokedAs === 'agent' ? args.trim().split(/\s+/)[0] ?? '' : invokedAs).toLowerCase();
      if (!isAgentName(wanted)) {
        const current = await ctx.conversation();
        const choices = agentNames.map((a) => `/${a} — ${esc(agentTitles[a])}`).join('\n');
        await ctx.reply(`${wanted ? `There is no agent called “${esc(wanted)}”. ` : ''}You are talking to ${agentName(current.agent)}. Choose:\n${choices}`);
        return;
      }
      await ctx.transaction(async (trx) => {
        await setConversationAgent(trx, { chatId: ctx.chat.id, userId: ctx.member.id, agent: wanted });
        await ctx.reply(`You are now talking to ${esc(agentTitles[wanted])}.`, { db: trx });
      });
    },
  },
  {
    name: 'new',
    description: 'start a new conversation (the agent forgets this one’s messages)',
    handle: async (ctx) => {
      await ctx.transaction(async (trx) => {
        const { opened } = await startNewConversation(trx, { chatId: ctx.chat.id, userId: ctx.member.id });
        await ctx.reply(`New conversation started with ${agentName(opened.agent)}. Earlier messages are no longer part of it.`, { db: trx });
      });
    },
  },
  {
    name: 'cancel',
    description: 'stop the agents from answering what you sent and they have not answered yet',
    handle: async (ctx) => {
      await ctx.transaction(async (trx) => {
        const dropped = await dropUnansweredMessages(trx, ctx.chat.id);
        await ctx.reply(
          dropped === 0
            ? 'Nothing is waiting for an answer.'
            : `Cancelled: ${dropped} waiting message${dropped === 1 ? '' : 's'} will not be answered.`,
          { db: trx },
        );
      });
    },
  },
];
