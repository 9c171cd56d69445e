import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '@dealdome/domain';
import { z } from 'zod';

/** What every tool run is told about its call, next to the caller's own context. */
export interface ToolCallMeta {
  toolUseId: string;
  /** Aborted when the turn's deadline passes or the caller gives up: stop work then. */
  signal: AbortSignal;
}

/**
 * A tool as the loop sees it. Build one with `defineTool`, which keeps the zod
 * schema, the JSON Schema sent to Claude and the typed `run` in step.
 */
export interface Tool<C = unknown> {
  readonly name: string;
  readonly description: string;
  readonly schema: z.ZodType;
  /** JSON Schema of the input, derived once from `schema`. */
  readonly inputSchema: Anthropic.Tool.InputSchema;
  /** Runs with input that already passed `schema`. */
  run(input: unknown, ctx: C & ToolCallMeta): Promise<unknown>;
}

export interface ToolDefinition<S extends z.ZodType, R, C> {
  /** `^[a-zA-Z0-9_-]{1,64}$`, as the API requires. */
  name: string;
  description: string;
  /** Must describe an object: tool input is always a JSON object. */
  input: S;
  run: (input: z.output<S>, ctx: C & ToolCallMeta) => Promise<R>;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Declares a tool once: the zod schema validates what Claude sends and yields the
 * JSON Schema Claude is shown. Throws at start-up for a bad name or a schema that is
 * not an object or cannot be expressed in JSON Schema.
 */
export function defineTool<S extends z.ZodType, R, C = unknown>(definition: ToolDefinition<S, R, C>): Tool<C> {
  if (!TOOL_NAME.test(definition.name)) {
    throw new Error(`tool name "${definition.name}" must match ${String(TOOL_NAME)}`);
  }
  // The model writes the input, so describe what parsing accepts (io: 'input').
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(definition.input, { io: 'input' }) as Record<string, unknown>;
  if (jsonSchema.type !== 'object') {
    throw new Error(`tool "${definition.name}": input schema must describe an object, not ${String(jsonSchema.type)}`);
  }
  return {
    name: definition.name,
    description: definition.description,
    schema: definition.input,
    inputSchema: jsonSchema as Anthropic.Tool.InputSchema,
    run: (input, ctx) => definition.run(input as z.output<S>, ctx),
  };
}

/** One executed tool_use: the block to send back and what to log. */
export interface ToolExecution {
  result: Anthropic.ToolResultBlockParam;
  name: string;
  isError: boolean;
  durationMs: number;
  /** The error a tool threw, for the logs only: the model sees a safe summary. */
  error?: unknown;
}

export interface ToolRegistryOptions {
  /** Longer results are cut, with a note saying so (default 50,000 characters ≈ 12,500 tokens). */
  maxResultChars?: number;
}

export interface ToolRegistry<C = unknown> {
  readonly tools: readonly Tool<C>[];
  /**
   * The `tools` array for the Messages API, in declaration order, with a
   * cache_control breakpoint on the last one so that the tool block is cached. The
   * same objects every time: nothing volatile belongs in a cached prefix.
   */
  definitions(): Anthropic.Tool[];
  /**
   * Runs one tool_use block. Never throws: an unknown tool, input the schema
   * rejects, a thrown error or an unserialisable result all come back as a
   * tool_result with `is_error: true` and a short message the model may read.
   */
  execute(block: Pick<Anthropic.ToolUseBlock, 'id' | 'name' | 'input'>, context: C, signal: AbortSignal): Promise<ToolExecution>;
}

const DEFAULT_MAX_RESULT_CHARS = 50_000;

export function createToolRegistry<C = unknown>(tools: readonly Tool<C>[], options: ToolRegistryOptions = {}): ToolRegistry<C> {
  const byName = new Map<string, Tool<C>>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`tool "${tool.name}" is declared twice`);
    byName.set(tool.name, tool);
  }
  const maxResultChars = options.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS;
  const definitions: Anthropic.Tool[] = tools.map((tool, index) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.inputSchema,
    ...(index === tools.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
  }));

  return {
    tools,
    definitions: () => definitions,
    async execute(block, context, signal) {
      const started = Date.now();
      const answer = (content: string, isError: boolean, name: string, error?: unknown): ToolExecution => ({
        result: { type: 'tool_result', tool_use_id: block.id, content, ...(isError ? { is_error: true } : {}) },
        name,
        isError,
        durationMs: Date.now() - started,
        ...(error !== undefined ? { error } : {}),
      });

      const tool = byName.get(block.name);
      if (!tool) {
        return answer(`Unknown tool "${block.name}". Available tools: ${[...byName.keys()].join(', ') || 'none'}.`, true, block.name);
      }
      const parsed = tool.schema.safeParse(block.input);
      if (!parsed.success) {
        return answer(`Invalid input for ${tool.name}: ${describeIssues(parsed.error)}. Correct the input and call it again.`, true, tool.name);
      }
      let output: unknown;
      try {
        output = await tool.run(parsed.data, { ...context, toolUseId: block.id, signal });
      } catch (error) {
        return answer(safeFailure(tool.name, error), true, tool.name, error);
      }
      try {
        return answer(limit(serialise(output), maxResultChars), false, tool.name);
      } catch (error) {
        return answer(`${tool.name} returned a result that could not be serialised.`, true, tool.name, error);
      }
    },
  };
}

/** zod's issues, path first, at most five: enough for the model to correct itself. */
function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/**
 * AppError messages are written for clients, so the model may read them; any
 * other error can carry internals (SQL, hosts, stack details) and is summarised.
 */
function safeFailure(name: string, error: unknown): string {
  if (error instanceof AppError) return `${name} failed: ${error.message}`;
  return `${name} failed with an unexpected error. Tell the user it did not work; do not retry it in this turn.`;
}

function serialise(output: unknown): string {
  if (output === undefined) return 'OK';
  if (typeof output === 'string') return output === '' ? '(empty result)' : output;
  const json = JSON.stringify(output);
  if (json === undefined) throw new TypeError('result has no JSON form');
  return json;
}

function limit(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[result truncated: ${maxChars} of ${text.length} characters shown]`;
}
