import { decidePendingAction, parsePendingActionCallback } from '@dealdome/domain';
import { esc } from '../html';
import type { ButtonHandler } from './registry';

/**
 * Confirm / Cancel under an agent's proposed write (Roos's "add this ad spend?").
 * The write happens here, in the same transaction as the decision, exactly once
 * however often the button is pressed; only the person who asked may decide.
 */
export const pendingActionButton: ButtonHandler = async (ctx, data) => {
  const pressed = parsePendingActionCallback(data);
  if (!pressed) {
    await ctx.reply('That button is no longer valid.');
    return;
  }
  const decided = await decidePendingAction(ctx.db, pressed.id, ctx.member.id, pressed.decision);
  await ctx.reply(esc(decided.message));
};
