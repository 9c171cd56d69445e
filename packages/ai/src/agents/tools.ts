import {
  AppError,
  MAX_CHECK_PROMPT_LENGTH,
  MAX_REMINDER_LENGTH,
  adPlatforms,
  adSpendReport,
  adSpendReportQuery,
  agentNames,
  alertPriorities,
  cachedReport,
  createMemory,
  createScheduledTask,
  deleteScheduledTask,
  findStoreByName,
  isPrivateChat,
  listDailyFinancials,
  listFixedCosts,
  listProducts,
  listScheduledTasks,
  listStoreRefs,
  personalMemoriesShownIn,
  memoryKinds,
  nextRunAt,
  pnlQuery,
  productReport,
  productReportQuery,
  profitAndLoss,
  proposeAdSpend,
  QUERY_EMBED_TIMEOUT_MS,
  recallMemories,
  hybridKnowledgeSearch,
} from '@dealdome/domain';
import type { ScheduledTask, StoreRef } from '@dealdome/domain';
import { z } from 'zod';
import { defineTool } from '../tools';
import type { Tool } from '../tools';
import type { AgentToolContext } from './context';
import { localTime } from './local-time';
import { addDays, RANGE_WORDS, resolveRange } from './ranges';

/**
 * The agents' tools. Finance tools call the same domain functions (and report
 * cache) as finance-api, so an agent's figure is the dashboard's figure. Every
 * refusal is an AppError whose message the model can read and act on.
 */

type AgentTool = Tool<AgentToolContext>;

const rangeInput = z.string().trim().min(1).max(40).describe(`Which days, in the team's time zone: ${RANGE_WORDS}.`);
const storeInput = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .describe('A store by its name or shop domain. Leave it out for all stores together (converted to the reporting currency).');

/** A domain query schema's verdict as an error the model can correct. */
function parseQuery<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  throw new AppError(400, 'invalid_request', `The request is not valid: ${problems}.`);
}

async function storeOf(ctx: AgentToolContext, name: string | undefined): Promise<StoreRef | undefined> {
  return name === undefined ? undefined : findStoreByName(ctx.db, name);
}

export const getPnl: AgentTool = defineTool({
  name: 'get_pnl',
  description:
    'Profit and loss over a range of days, for all stores together or one store (in its own currency). ' +
    'Returns the totals: revenue, discounts, refunds, netRevenue, cogs, shippingCosts, transactionFees, grossProfit, ' +
    'adSpend and adSpendByPlatform, fixedCosts, netProfit ("profit" when people say profit), marginPct, roas, poas, ' +
    'breakEvenRoas and orders; with groupBy also one row per day, ISO week or month. Amounts are decimal strings in `currency`.',
  input: z.object({
    range: rangeInput,
    store: storeInput.optional(),
    groupBy: z.enum(['day', 'week', 'month']).optional().describe('Add a row per period; leave out for totals only.'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const { from, to } = resolveRange(input.range, ctx.today);
    const store = await storeOf(ctx, input.store);
    const query = parseQuery(pnlQuery, { from, to, storeId: store?.id, groupBy: input.groupBy ?? 'day' });
    const report = await cachedReport(ctx.db, 'pnl', query, (db) => profitAndLoss(db, query));
    return {
      store: store?.name ?? 'all stores',
      currency: report.currency,
      from,
      to,
      totals: report.totals,
      ...(input.groupBy ? { groupBy: input.groupBy, rows: report.rows } : {}),
    };
  },
});

export const rankProducts: AgentTool = defineTool({
  name: 'rank_products',
  description:
    'Products ranked by profit or ROAS over a range: units, revenue, cogs, attributed adSpend, profit (revenue − cogs − adSpend) ' +
    'and roas (revenue ÷ adSpend, null without spend). Only products with sales or spend in the range appear.',
  input: z.object({
    range: rangeInput,
    store: storeInput.optional(),
    sortBy: z.enum(['profit', 'roas']).default('profit'),
    limit: z.number().int().min(1).max(25).default(10),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const { from, to } = resolveRange(input.range, ctx.today);
    const store = await storeOf(ctx, input.store);
    const query = parseQuery(productReportQuery, { from, to, storeId: store?.id, sortBy: input.sortBy, limit: input.limit });
    const report = await cachedReport(ctx.db, 'products', query, (db) => productReport(db, query));
    return { store: store?.name ?? 'all stores', currency: report.currency, from, to, sortBy: report.sortBy, products: report.rows };
  },
});

export const findProduct: AgentTool = defineTool({
  name: 'find_product',
  description: 'Finds products whose name or SKU contains the words: id, store, SKU, name, status and current cost price.',
  input: z.object({ query: z.string().trim().min(1).max(200), store: storeInput.optional() }),
  run: async (input, ctx: AgentToolContext) => {
    const store = await storeOf(ctx, input.store);
    const page = await listProducts(ctx.db, { q: input.query, ...(store ? { storeId: store.id } : {}) }, { limit: 15 });
    const names = new Map((await listStoreRefs(ctx.db)).map((s) => [s.id, s.name]));
    return {
      products: page.data.map((p) => ({
        id: p.id,
        store: names.get(p.storeId) ?? p.storeId,
        sku: p.sku,
        name: p.name,
        status: p.status,
        costPrice: p.costPrice,
        currency: p.currency,
      })),
      more: page.nextCursor !== null,
    };
  },
});

export const adSpendReportTool: AgentTool = defineTool({
  name: 'ad_spend_report',
  description: 'Ad spend over a range, by platform (meta, tiktok, google, snapchat, pinterest, other), by day or by store, with the total.',
  input: z.object({
    range: rangeInput,
    store: storeInput.optional(),
    groupBy: z.enum(['platform', 'day', 'store']).default('platform'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const { from, to } = resolveRange(input.range, ctx.today);
    const store = await storeOf(ctx, input.store);
    const query = parseQuery(adSpendReportQuery, { from, to, storeId: store?.id, groupBy: input.groupBy });
    const report = await cachedReport(ctx.db, 'ad-spend', query, (db) => adSpendReport(db, query));
    if (input.groupBy === 'store') {
      const names = new Map((await listStoreRefs(ctx.db)).map((s) => [s.id, s.name]));
      return { ...report, rows: report.rows.map((r) => ({ ...r, key: names.get(r.key) ?? r.key })) };
    }
    return { store: store?.name ?? 'all stores', ...report };
  },
});

export const listFixedCostsTool: AgentTool = defineTool({
  name: 'list_fixed_costs',
  description:
    'Fixed monthly costs (rent, software, salaries): name, category, amount, currency, store (or shared by all stores), start and end month.',
  input: z.object({
    store: z.string().trim().min(1).max(200).optional().describe('A store by name, or "shared" for the costs all stores share; leave out for every cost.'),
    month: z.string().trim().max(20).optional().describe('Only costs running in this month: YYYY-MM, this-month or last-month.'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const shared = input.store?.toLowerCase() === 'shared';
    const store = shared ? undefined : await storeOf(ctx, input.store);
    let activeIn: string | undefined;
    if (input.month !== undefined) {
      const word = input.month.toLowerCase();
      if (word === 'this-month') activeIn = ctx.today.slice(0, 7);
      else if (word === 'last-month') activeIn = addDays(`${ctx.today.slice(0, 7)}-01`, -1).slice(0, 7);
      else if (/^\d{4}-(0[1-9]|1[0-2])$/.test(word)) activeIn = word;
      else throw new AppError(400, 'invalid_month', `"${input.month}" is not a month: use YYYY-MM, this-month or last-month.`);
    }
    const page = await listFixedCosts(
      ctx.db,
      { ...(shared ? { storeId: 'shared' } : store ? { storeId: store.id } : {}), ...(activeIn ? { activeIn } : {}) },
      { limit: 200 },
    );
    const names = new Map((await listStoreRefs(ctx.db)).map((s) => [s.id, s.name]));
    return {
      fixedCosts: page.data.map((c) => ({
        name: c.name,
        category: c.category,
        amount: c.amount,
        currency: c.currency,
        store: c.storeId === null ? 'shared' : (names.get(c.storeId) ?? c.storeId),
        startMonth: c.startMonth,
        endMonth: c.endMonth,
      })),
      more: page.nextCursor !== null,
    };
  },
});

const MAX_DAILY_DAYS = 62;

export const getDailyFinancials: AgentTool = defineTool({
  name: 'get_daily_financials',
  description:
    `One store's recorded days: revenue, discounts, refunds, cogs, shippingCosts, transactionFees, orders and units per day, ` +
    `in the store's currency. At most ${MAX_DAILY_DAYS} days; use get_pnl with groupBy for longer spans.`,
  input: z.object({ store: storeInput.describe('The store, by name or shop domain.'), range: rangeInput }),
  run: async (input, ctx: AgentToolContext) => {
    const { from, to } = resolveRange(input.range, ctx.today);
    if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_DAILY_DAYS) {
      throw new AppError(400, 'range_too_long', `At most ${MAX_DAILY_DAYS} days at a time; use get_pnl with groupBy for longer spans.`);
    }
    const store = await findStoreByName(ctx.db, input.store);
    const page = await listDailyFinancials(ctx.db, store.id, { from, to });
    return {
      store: store.name,
      currency: store.currency,
      from,
      to,
      days: page.data.map(({ id: _id, storeId: _storeId, updatedAt: _updatedAt, ...day }) => day),
      note: 'Days with nothing recorded are absent.',
    };
  },
});

export const remember: AgentTool = defineTool({
  name: 'remember',
  description:
    'Stores something to remember for later conversations: a fact, decision, preference or context. ' +
    'Team memories are seen by everyone; personal ones only by the person asking, and only in a private chat with them. Write it as one self-contained sentence.',
  input: z.object({
    content: z.string().trim().min(1).max(2000),
    kind: z.enum(memoryKinds).default('fact'),
    scope: z.enum(['team', 'personal']).default('team'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    if (input.scope === 'personal' && !ctx.person) {
      throw new AppError(400, 'no_person', 'This conversation has no linked person, so only team memories can be stored.');
    }
    if (input.scope === 'personal' && !isPrivateChat(ctx.chatId)) {
      throw new AppError(
        400,
        'personal_memory_in_group',
        'Personal memories are kept only in a private chat with the person: everyone in this group sees the replies. Store it for the team, or ask them to tell you in a private chat.',
      );
    }
    const { memory, refreshed } = await createMemory(ctx.db, {
      scope: input.scope === 'personal' ? 'user' : 'team',
      userId: input.scope === 'personal' ? ctx.person!.id : null,
      kind: input.kind,
      content: input.content,
      sourceMessageId: ctx.sourceMessageId,
    });
    // A refreshed memory is queued too: the worker skips it if it has its vector, and embeds it if
    // the job of its first telling never ran (a turn stopped between storing it and queueing it).
    ctx.effects.memories.push(memory.id);
    return { remembered: memory.content, scope: input.scope, kind: memory.kind, ...(refreshed && { alreadyRemembered: true }) };
  },
});

export const recall: AgentTool = defineTool({
  name: 'recall',
  description:
    "Looks up what was remembered: the team's memories and the person's own. With a query, memories sharing its words come first " +
    '(`matched: true`), then the most recent ones; without a query, the most recent.',
  input: z.object({
    query: z.string().trim().max(500).optional(),
    limit: z.number().int().min(1).max(25).default(10),
  }),
  run: async (input, ctx: AgentToolContext) => {
    // In a group only the team's: a person's own memories would be read out to everyone.
    const memories = await recallMemories(ctx.db, { userId: personalMemoriesShownIn(ctx.chatId, ctx.person?.id), limit: input.limit, ...(input.query ? { query: input.query } : {}) });
    return {
      memories: memories.map((m) => ({
        content: m.content,
        kind: m.kind,
        scope: m.scope === 'user' ? 'personal' : 'team',
        matched: m.matched,
        rememberedOn: m.updatedAt.toISOString().slice(0, 10),
      })),
    };
  },
});

export const searchKnowledgeTool: AgentTool = defineTool({
  name: 'search_knowledge',
  description:
    "Searches the knowledge base (the team's training-video transcripts) by meaning and by words. Each result is a transcript passage with its " +
    'video title, link and the time span (start, end as m:ss or h:mm:ss) to cite. Search again with other words if nothing fits.',
  input: z.object({
    query: z.string().trim().min(1).max(500).describe('Words the passage would contain; names and terms work best.'),
    limit: z.number().int().min(1).max(10).default(5),
  }),
  run: async (input, ctx: AgentToolContext) => {
    let queryVector: number[] | null = null;
    let embeddingMs: number | null = null;
    if (ctx.embeddings) {
      const started = performance.now();
      // The text side still searches when the words cannot be embedded.
      queryVector = (await ctx.embeddings.embed([input.query], { signal: AbortSignal.timeout(QUERY_EMBED_TIMEOUT_MS) }).catch(() => [null]))[0] ?? null;
      embeddingMs = performance.now() - started;
    }
    const { hits } = await hybridKnowledgeSearch(ctx.db, {
      query: input.query,
      queryVector,
      model: ctx.embeddings?.model ?? 'none',
      limit: input.limit,
      embeddingMs,
      agent: ctx.agent,
      userId: ctx.person?.id ?? null,
    });
    if (hits.length === 0) {
      return { results: [], note: 'Nothing in the knowledge base matches these words. Try other words, or say the videos do not cover it.' };
    }
    return {
      results: hits.map((h) => ({
        video: h.videoTitle,
        url: h.videoUrl,
        // The video at the passage's start (t= seconds): the link to cite.
        link: h.link,
        start: h.start,
        end: h.end,
        text: h.text,
      })),
    };
  },
});

export const proposeAdSpendTool: AgentTool = defineTool({
  name: 'propose_ad_spend',
  description:
    'Prepares an ad-spend entry for the person to confirm. It does NOT record anything: your reply is shown with Confirm and Cancel ' +
    'buttons and the entry is written only when the person presses Confirm. Summarise exactly what will be recorded and ask them to confirm.',
  input: z.object({
    store: storeInput.describe('The store the spend is for, by name or shop domain.'),
    date: z.string().trim().min(1).max(20).describe('The day of the spend: today, yesterday or YYYY-MM-DD.'),
    platform: z.enum(adPlatforms),
    amount: z.string().trim().describe('The amount as a decimal string such as "120.50", without a currency sign.'),
    currency: z.string().trim().length(3).optional().describe("ISO 4217 code; leave out for the store's currency."),
    campaign: z.string().trim().max(300).optional(),
    productSku: z.string().trim().max(100).optional().describe('The SKU of the product the spend promoted, if any.'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    if (!ctx.person) throw new AppError(403, 'no_person', 'Only a linked team member can record ad spend; nobody is linked to this chat.');
    const store = await findStoreByName(ctx.db, input.store);
    const { from, to } = resolveRange(input.date, ctx.today);
    if (from !== to) throw new AppError(400, 'invalid_date', 'Ad spend is recorded per day: give one day.');
    let productId: string | null = null;
    if (input.productSku) {
      const candidates = await listProducts(ctx.db, { storeId: store.id, q: input.productSku }, { limit: 50 });
      const product = candidates.data.find((p) => p.sku.toLowerCase() === input.productSku!.toLowerCase());
      if (!product) throw new AppError(404, 'not_found', `${store.name} has no product with SKU "${input.productSku}".`);
      productId = product.id;
    }
    const currency = (input.currency ?? store.currency).toUpperCase();
    const action = await proposeAdSpend(ctx.db, {
      conversationId: ctx.conversationId,
      userId: ctx.person.id,
      input: {
        storeId: store.id,
        date: from,
        platform: input.platform,
        amount: input.amount,
        currency,
        campaign: input.campaign ?? null,
        productId,
      },
    });
    const label = `${input.amount} ${currency} ${input.platform} ${from}`;
    ctx.effects.proposals.push({ id: action.id, label });
    return {
      status: 'awaiting confirmation — nothing is recorded yet',
      proposal: { store: store.name, date: from, platform: input.platform, amount: input.amount, currency, campaign: input.campaign ?? null, productSku: input.productSku ?? null },
      expiresAt: action.expiresAt.toISOString(),
    };
  },
});

export const handoff: AgentTool = defineTool({
  name: 'handoff',
  description:
    'Hands the conversation to a colleague who answers this message right away and the ones after it: ' +
    'roos for finance (profit, ROAS, products, ad spend, costs), elisa for questions the training videos answer, ' +
    'alfred for memories, reminders and everything else. Do not answer yourself after calling it.',
  input: z.object({
    to: z.enum(agentNames),
    reason: z.string().trim().min(1).max(300).describe('One line for the colleague: what the person wants.'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    if (input.to === ctx.agent) throw new AppError(400, 'same_agent', `You are ${ctx.agent}: answer the person yourself.`);
    if (!ctx.canHandOff) {
      throw new AppError(409, 'handoff_used', 'This message was already handed over once: answer the person yourself with what you can.');
    }
    ctx.effects.handoff = { to: input.to, reason: input.reason };
    ctx.endForHandoff();
    return `Handed over to ${input.to}.`;
  },
});

// ---------------------------------------------------------------- the chat's schedule

/**
 * Reminders and checks are set by the person asking, for the chat they ask in, and
 * are not confirmed on a keyboard as Roos's writes are: a reminder is what the person
 * just asked for, changes no record of the business, is repeated back in the reply and
 * is undone with cancel_reminder. Viewers may look at the schedule but not change it,
 * as in finance-api.
 */
function scheduler(ctx: AgentToolContext): { id: string } {
  if (!ctx.person) throw new AppError(403, 'no_person', 'Only a linked team member can schedule; nobody is linked to this chat.');
  if (ctx.person.role === 'viewer') {
    throw new AppError(403, 'forbidden', `${ctx.person.displayName} is a viewer: viewers can see the schedule but not change it. A member or admin can.`);
  }
  return ctx.person;
}

const cronInput = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .describe('5 fields: minute hour day-of-month month day-of-week, e.g. "30 8 * * 1" (Mondays 08:30) or "0 9 1 * *" (the 1st, 09:00).');
const zoneInput = z.string().trim().min(1).max(64).describe("IANA time zone the cron expression is read in; the team's time zone when left out.");

/** A task as the agent reads it: what, when (in the team's time zone) and how it went. */
function taskForAgent(task: ScheduledTask, timeZone: string) {
  return {
    id: task.id,
    kind: task.kind,
    ...(task.kind === 'reminder' && { text: task.payload.text }),
    ...(task.kind === 'agent_check' && { agent: task.agent, prompt: task.payload.prompt }),
    schedule: task.cronExpression === null ? 'once' : `cron "${task.cronExpression}" in ${task.timezone}`,
    enabled: task.enabled,
    nextRun: task.nextRunAt && localTime(task.nextRunAt, timeZone),
    ...(task.lastRunAt && { lastRun: localTime(task.lastRunAt, timeZone), lastStatus: task.lastStatus }),
    ...(task.lastError && { lastError: task.lastError }),
  };
}

export const createReminder: AgentTool = defineTool({
  name: 'create_reminder',
  description:
    'Schedules a reminder for this chat: the text is posted here at the time. Give `at` for one time, or `cron` for a repeating ' +
    'reminder. Returns the reminder with its next run in local time: repeat that to the person.',
  input: z.object({
    text: z.string().trim().min(1).max(MAX_REMINDER_LENGTH).describe('The reminder as it will be posted, e.g. "Order packaging for the Black Friday stock".'),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("One time: ISO 8601 with the UTC offset that moment has in the team's time zone, e.g. 2026-03-03T09:00:00+01:00."),
    cron: cronInput.optional(),
    timeZone: zoneInput.optional(),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const person = scheduler(ctx);
    if ((input.at === undefined) === (input.cron === undefined)) {
      throw new AppError(400, 'invalid_schedule', 'Give either `at` (one time) or `cron` (repeating), not both and not neither.');
    }
    const task = await createScheduledTask(ctx.db, {
      kind: 'reminder',
      chatId: ctx.chatId,
      payload: { text: input.text },
      createdBy: person.id,
      timezone: input.timeZone ?? ctx.timeZone,
      ...(input.cron !== undefined ? { cronExpression: input.cron } : { runAt: input.at }),
    });
    return { scheduled: taskForAgent(task, ctx.timeZone) };
  },
});

export const listReminders: AgentTool = defineTool({
  name: 'list_reminders',
  description: "This chat's reminders, recurring checks and digests, oldest first: id, what, schedule, next run (local time), last run and its outcome.",
  input: z.object({}),
  run: async (_input, ctx: AgentToolContext) => {
    const page = await listScheduledTasks(ctx.db, { chatId: ctx.chatId }, { limit: 50 });
    if (page.data.length === 0) return { tasks: [], note: 'Nothing is scheduled for this chat.' };
    return { tasks: page.data.map((t) => taskForAgent(t, ctx.timeZone)), more: page.nextCursor !== null };
  },
});

export const cancelReminder: AgentTool = defineTool({
  name: 'cancel_reminder',
  description: "Deletes one of this chat's reminders or checks by the id list_reminders gives. Tasks of other chats cannot be touched.",
  input: z.object({ id: z.string().trim().min(1).max(64).describe('The id from list_reminders or create_reminder.') }),
  run: async (input, ctx: AgentToolContext) => {
    scheduler(ctx);
    const task = await deleteScheduledTask(ctx.db, input.id, { chatId: ctx.chatId });
    return { cancelled: taskForAgent(task, ctx.timeZone) };
  },
});

/** A check is a model turn each run: one more often than hourly would cost without telling the team more. */
export const MIN_CHECK_INTERVAL_MINUTES = 60;

/** The shortest gap between the next runs of `cron`, in minutes. */
function shortestGapMinutes(cron: string, zone: string, from: Date, runs = 24): number {
  let shortest = Infinity;
  let previous = nextRunAt(cron, zone, from);
  for (let i = 1; i < runs; i++) {
    const next = nextRunAt(cron, zone, previous);
    shortest = Math.min(shortest, (next.getTime() - previous.getTime()) / 60_000);
    previous = next;
  }
  return shortest;
}

export const createAgentCheck: AgentTool = defineTool({
  name: 'create_agent_check',
  description:
    'Sets up a recurring check for this chat: on schedule, the agent runs the prompt with its tools and posts an alert here only when ' +
    `the finding deserves the team's attention; otherwise nothing is posted. At most once every ${MIN_CHECK_INTERVAL_MINUTES} minutes.`,
  input: z.object({
    agent: z.enum(agentNames).describe('Who checks: roos for figures (P&L, ROAS, ad spend, products), elisa for the knowledge base, alfred for memories.'),
    prompt: z
      .string()
      .trim()
      .min(1)
      .max(MAX_CHECK_PROMPT_LENGTH)
      .describe('What to check and when to alert, naming store, figure, period and threshold, e.g. "Alert if yesterday\'s ROAS of Nordic Home was below 1.5".'),
    cron: cronInput,
    timeZone: zoneInput.optional(),
  }),
  run: async (input, ctx: AgentToolContext) => {
    const person = scheduler(ctx);
    const zone = input.timeZone ?? ctx.timeZone;
    if (shortestGapMinutes(input.cron, zone, new Date()) < MIN_CHECK_INTERVAL_MINUTES) {
      throw new AppError(422, 'too_often', `"${input.cron}" runs more often than once every ${MIN_CHECK_INTERVAL_MINUTES} minutes; a check may not.`);
    }
    const task = await createScheduledTask(ctx.db, {
      kind: 'agent_check',
      chatId: ctx.chatId,
      agent: input.agent,
      payload: { prompt: input.prompt },
      createdBy: person.id,
      cronExpression: input.cron,
      timezone: zone,
    });
    return { scheduled: taskForAgent(task, ctx.timeZone) };
  },
});

export const sendAlert: AgentTool = defineTool({
  name: 'send_alert',
  description:
    "Posts the alert of this scheduled check to the team's chat. Call it only when the finding deserves their attention, once, " +
    'with everything in one message; without it nothing is posted.',
  input: z.object({
    text: z
      .string()
      .trim()
      .min(1)
      .max(MAX_REMINDER_LENGTH)
      .describe('The alert in Telegram HTML: what was found, with the figures and period, and why it matters.'),
    priority: z
      .enum(alertPriorities)
      .optional()
      .describe('How urgent it is: normal when left out; high when money is being lost now (e.g. ROAS under break-even); low for a heads-up; critical only when the business is stopped.'),
  }),
  run: async (input, ctx: AgentToolContext) => {
    if (ctx.effects.alert) throw new AppError(409, 'alert_prepared', 'This check has prepared its alert already; one per run. Do not call send_alert again.');
    ctx.effects.alert = { text: input.text, priority: input.priority ?? 'normal' };
    return 'The alert is posted to the chat when this check ends. Now answer with one line for the record.';
  },
});
