import type Anthropic from '@anthropic-ai/sdk';
import { estimateMessageTokens, estimateTokens, trimHistory } from './history';

const user = (text: string): Anthropic.MessageParam => ({ role: 'user', content: text });
const assistant = (text: string): Anthropic.MessageParam => ({ role: 'assistant', content: [{ type: 'text', text }] });
const toolUse = (id: string): Anthropic.MessageParam => ({
  role: 'assistant',
  content: [{ type: 'tool_use', id, name: 'get_revenue', input: { day: '2026-05-01' } }],
});
const toolResult = (id: string, text: string): Anthropic.MessageParam => ({
  role: 'user',
  content: [{ type: 'tool_result', tool_use_id: id, content: text }],
});

describe('trimHistory', () => {
  // Each message costs 10 "tokens" so budgets are easy to read.
  const flat = () => 10;
  const history = [
    user('u1'),
    toolUse('a'),
    toolResult('a', 'r1'),
    assistant('a1'),
    user('u2'),
    toolUse('b'),
    toolResult('b', 'r2'),
    assistant('a2'),
    user('u3'),
  ];

  it('when the history fits, then it is returned whole', () => {
    expect(trimHistory(history, 90, flat)).toEqual(history);
  });

  it('when it does not fit, then the oldest turns go first and a tool_use never loses its tool_result', () => {
    // 50 would fit the last five messages, which would start with a tool_result: the whole turn goes instead.
    const trimmed = trimHistory(history, 50, flat);
    expect(trimmed).toEqual(history.slice(4));
    expect(trimmed[0]).toEqual(user('u2'));
  });

  it('when even the newest turn is over budget, then the newest user message is still kept', () => {
    expect(trimHistory(history, 1, flat)).toEqual([user('u3')]);
  });

  it('when the history starts with an orphan assistant or tool_result message, then that part is dropped', () => {
    expect(trimHistory([toolResult('z', 'old'), assistant('old'), user('u'), assistant('a')], 1000, flat)).toEqual([
      user('u'),
      assistant('a'),
    ]);
  });

  it('when no estimate is given, then characters / 4 of the content is used', () => {
    expect(estimateTokens('12345678')).toBe(2);
    expect(estimateTokens('123456789')).toBe(3);
    expect(estimateMessageTokens(user('x'.repeat(40)))).toBe(10);
    const blocks = toolResult('a', 'r');
    expect(estimateMessageTokens(blocks)).toBe(Math.ceil(JSON.stringify(blocks.content).length / 4));
    expect(trimHistory(history, 5)).toEqual([user('u3')]);
  });
});
