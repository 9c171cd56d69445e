import { conversationCommands, helpCommands } from './conversation';
import { financeCommands } from './finance';
import { memoryCommands } from './memory';
import { pendingActionButton } from './pending-actions';
import { CommandRegistry } from './registry';
import { taskCommands } from './tasks';
import { usageCommands } from './usage';

export { CommandRegistry } from './registry';
export type { Command } from './registry';

/** Every command the bot answers, in the order /help lists them. */
export function buildCommandRegistry(): CommandRegistry {
  const registry: CommandRegistry = new CommandRegistry([
    ...helpCommands(() => registry),
    ...conversationCommands,
    ...financeCommands,
    ...memoryCommands,
    ...taskCommands,
    ...usageCommands,
  ], { pa: pendingActionButton });
  return registry;
}
