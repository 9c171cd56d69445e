import { z } from 'zod';
import { createToolRegistry, defineTool } from './tools';

const controller = new AbortController();

describe('tools', () => {
  const lookup = defineTool({
    name: 'lookup_order',
    description: 'Finds an order.',
    input: z.object({ orderId: z.string().describe('Shopify order name, e.g. #1001'), includeLines: z.boolean().default(false) }),
    run: async (input) => input,
  });
  const big = defineTool({
    name: 'big_report',
    description: 'Returns a lot.',
    input: z.object({}),
    run: async () => 'x'.repeat(100),
  });

  it('when a tool is defined, then its JSON Schema describes the zod object as the model may write it', () => {
    expect(lookup.inputSchema).toEqual({
      type: 'object',
      properties: {
        orderId: { type: 'string', description: 'Shopify order name, e.g. #1001' },
        includeLines: { type: 'boolean', default: false },
      },
      required: ['orderId'],
    });
  });

  it('when a schema is not an object or a name is invalid, then defineTool refuses at start-up', () => {
    expect(() => defineTool({ name: 'list', description: '', input: z.array(z.string()), run: async () => null })).toThrow(/object/);
    expect(() => defineTool({ name: 'has space', description: '', input: z.object({}), run: async () => null })).toThrow(/must match/);
  });

  it('when two tools share a name, then the registry refuses', () => {
    expect(() => createToolRegistry([lookup, lookup])).toThrow(/declared twice/);
  });

  it('when definitions are read twice, then they are the same objects with one cache breakpoint on the last tool', () => {
    const registry = createToolRegistry([lookup, big]);
    expect(registry.definitions()).toBe(registry.definitions());
    expect(registry.definitions().map((d) => d.cache_control)).toEqual([undefined, { type: 'ephemeral' }]);
  });

  it('when input passes the schema, then defaults are applied and the result is JSON', async () => {
    const registry = createToolRegistry([lookup]);
    const execution = await registry.execute({ id: 't1', name: 'lookup_order', input: { orderId: '#1001' } }, {}, controller.signal);
    expect(execution.result).toEqual({ type: 'tool_result', tool_use_id: 't1', content: '{"orderId":"#1001","includeLines":false}' });
    expect(execution.isError).toBe(false);
  });

  it('when the model names a tool that does not exist, then the result is an is_error listing the tools', async () => {
    const registry = createToolRegistry([lookup]);
    const execution = await registry.execute({ id: 't2', name: 'drop_tables', input: {} }, {}, controller.signal);
    expect(execution.result).toMatchObject({ is_error: true, content: 'Unknown tool "drop_tables". Available tools: lookup_order.' });
  });

  it('when a result is longer than the limit, then it is cut with a note saying so', async () => {
    const registry = createToolRegistry([big], { maxResultChars: 10 });
    const execution = await registry.execute({ id: 't3', name: 'big_report', input: {} }, {}, controller.signal);
    expect(execution.result.content).toBe('xxxxxxxxxx\n[result truncated: 10 of 100 characters shown]');
  });
});
