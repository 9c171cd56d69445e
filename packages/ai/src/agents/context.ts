import type { EmbeddingProvider } from '../embeddings/provider';
import type { Database } from '@dealdome/db';
import type { AgentName, AlertPriority, Role } from '@dealdome/domain';

/** What the tools of a turn did that the runtime follows up once the turn is stored. */
export interface TurnEffects {
  /** Set by `handoff`: the colleague the turn goes to. */
  handoff?: { to: AgentName; reason: string };
  /** Proposals stored by `propose_ad_spend`: the reply offers Confirm / Cancel for each. */
  proposals: { id: string; label: string }[];
  /** Memories stored by `remember`: they need an embedding. */
  memories: string[];
  /** Set by `send_alert` in a scheduled check: the message the check sends to its chat, and how urgent it is. */
  alert?: { text: string; priority: AlertPriority };
}

export function newTurnEffects(): TurnEffects {
  return { proposals: [], memories: [] };
}

/**
 * The context every agent tool runs with. A plain object (runTurn spreads it into
 * each call); `effects` is shared by reference, so what tools record there is what
 * the runtime reads after the turn.
 */
export interface AgentToolContext {
  db: Database;
  agent: AgentName;
  /** The Telegram chat the turn answers in (decimal string): the chat a reminder is for. */
  chatId: string;
  conversationId: string;
  /** The person asking; null in a conversation no team member is linked to. */
  person: { id: string; displayName: string; role: Role } | null;
  /** The team's time zone: range words are read in it. */
  timeZone: string;
  /** Today in the team's time zone, YYYY-MM-DD. */
  today: string;
  /** The newest user message the turn answers: a memory records where it came from. */
  sourceMessageId: string | null;
  effects: TurnEffects;
  /** False once the turn has been handed over: one handoff per turn. */
  canHandOff: boolean;
  /** Stops this agent's part of the turn; the runtime runs it again with the colleague. */
  endForHandoff(): void;
  /** Embeds a knowledge search's words for the vector side; without one only the text side searches. */
  embeddings?: EmbeddingProvider;
}
