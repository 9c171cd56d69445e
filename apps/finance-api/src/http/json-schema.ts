import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as zod writes it. */
export type JsonSchema = { [keyword: string]: unknown };

/** Named schemas shared by the whole document, by component name. */
export type SchemaComponents = Record<string, JsonSchema>;

const COMPONENT_PREFIX = '#/components/schemas/';

/** `#/$defs/Store` (zod's local reference) → `#/components/schemas/Store` (the document's). */
function toComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponentRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, COMPONENT_PREFIX) : toComponentRefs(inner),
    ]),
  );
}

/**
 * The JSON Schema of a zod schema, by zod's own `z.toJSONSchema`. Schemas given an
 * `id` with `.meta({ id })` become components: they are added to `components` and
 * referenced, so each is written once however many operations use it. Inputs are
 * described as accepted (`io: 'input'`: defaults apply, coercions take strings),
 * responses as sent.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', components: SchemaComponents): JsonSchema {
  const { $schema: _dialect, $defs, ...root } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as JsonSchema;
  for (const [id, definition] of Object.entries(($defs ?? {}) as SchemaComponents)) {
    const component = toComponentRefs(definition) as JsonSchema;
    const known = components[id];
    if (known !== undefined && !isDeepStrictEqual(known, component)) {
      throw new Error(`two different schemas are named "${id}": give one of them another id`);
    }
    components[id] = component;
  }
  return toComponentRefs(root) as JsonSchema;
}

/** Follows a `#/components/schemas/…` reference. */
export function resolveRef(schema: JsonSchema, components: SchemaComponents): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(COMPONENT_PREFIX)) return schema;
  const target = components[ref.slice(COMPONENT_PREFIX.length)];
  if (!target) throw new Error(`the schema ${ref} is not among the components`);
  return resolveRef(target, components);
}

/** The fields of an object schema, an intersection's (allOf) included, with the names it requires. */
export function objectFields(schema: JsonSchema, components: SchemaComponents): { properties: [string, JsonSchema][]; required: Set<string> } {
  const resolved = resolveRef(schema, components);
  const properties = Object.entries((resolved.properties ?? {}) as Record<string, JsonSchema>);
  const required = new Set((resolved.required ?? []) as string[]);
  for (const part of (resolved.allOf ?? []) as JsonSchema[]) {
    const inner = objectFields(part, components);
    properties.push(...inner.properties.filter(([name]) => !properties.some(([known]) => known === name)));
    for (const name of inner.required) required.add(name);
  }
  return { properties, required };
}
