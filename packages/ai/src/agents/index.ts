export { agents, DEFAULT_AGENT_MODEL, turnSystemContext } from './definitions';
export type { AgentDefinition, TurnSystemContext } from './definitions';
export { newTurnEffects } from './context';
export type { AgentToolContext, TurnEffects } from './context';
export { toModelMessages } from './messages';
export { addDays, RANGE_WORDS, resolveRange, todayIn } from './ranges';
export type { DateRange } from './ranges';
export { toTelegramHtml } from './telegram-html';
export * as agentTools from './tools';
