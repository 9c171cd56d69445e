import type { TurnMessage } from '@dealdome/domain';
import { toModelMessages } from './messages';

let seq = 0;
const message = (role: TurnMessage['role'], content: TurnMessage['content']): TurnMessage => ({
  id: `m${++seq}`,
  role,
  content,
  userId: null,
  createdAt: new Date(),
});
const text = (value: string) => ({ type: 'text', text: value });

describe('toModelMessages', () => {
  it('when a turn used a tool, then its stored tool results go back as the user message they were', () => {
    const history = [
      message('user', [text('profit?')]),
      message('assistant', [{ type: 'tool_use', id: 't1', name: 'get_pnl', input: { range: 'yesterday' } }]),
      message('tool', [{ type: 'tool_result', tool_use_id: 't1', content: '{}' }]),
      message('assistant', [text('12.00 EUR')]),
    ];
    expect(toModelMessages(history, [message('user', [text('and today?')])], 10_000).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
  });

  it('when several messages wait for an answer, then they become one user message in arrival order', () => {
    const result = toModelMessages([], [message('user', [text('one')]), message('user', [text('two')])], 10_000);
    expect(result).toEqual([{ role: 'user', content: [text('one'), text('two')] }]);
  });

  it('when a command was answered without a reply, then its message joins the next one instead of breaking the alternation', () => {
    const result = toModelMessages(
      [message('user', [text('hi')]), message('assistant', [text('hello')]), message('user', [text('/pnl')])],
      [message('user', [text('thanks')])],
      10_000,
    );
    expect(result.at(-1)).toEqual({ role: 'user', content: [text('/pnl'), text('thanks')] });
    expect(result).toHaveLength(3);
  });

  it('when the history is over budget, then the oldest turns are dropped and the new messages stay', () => {
    const long = 'x'.repeat(4000);
    const result = toModelMessages(
      [message('user', [text(long)]), message('assistant', [text(long)])],
      [message('user', [text('new')])],
      100,
    );
    expect(result).toEqual([{ role: 'user', content: [text('new')] }]);
  });
});
