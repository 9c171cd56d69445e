import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Recorder, clientGone, headersWithoutSecrets, readBody, sendJson, sleep, startFake } from './http';
import type { LoopbackServer } from './http';
import { GraphQLSyntaxError, parseOperation, valueOf } from './shopify-graphql';
import type { Field, Operation } from './shopify-graphql';

/**
 * A fake Shopify Admin GraphQL API on loopback: `POST /admin/api/{version}/graphql.json`
 * with `X-Shopify-Access-Token`, as a client pointed at `fake.url` (its base URL) sends it.
 *
 * It serves what an order sync reads — `orders` (a connection with Shopify's search
 * syntax on updated_at/created_at/processed_at, sort keys, cursors, at most 250 per
 * page and 25,000 objects per connection), `order(id:)`, `refund(id:)` and `shop` —
 * resolving exactly the fields asked for: a field the schema lacks is the GraphQL
 * error Shopify answers.
 *
 * Rate limiting is Shopify's calculated query cost: scalars cost 0, objects 1, a
 * connection 2 plus `first` times its node, a list with `first` that many times its
 * element (a list without it, one element). The requested cost is taken from a leaky
 * bucket before the query runs and the part not used (the actual cost counts what was
 * returned) is given back; a query the bucket cannot pay for answers THROTTLED, one
 * costing more than 1,000 answers MAX_COST_EXCEEDED. Every answer carries
 * `extensions.cost` with the bucket's `throttleStatus`.
 *
 * Orders are added and changed with upsertOrder/addRefund/cancelOrder (each moves the
 * order's updatedAt); sendWebhook posts a webhook signed as Shopify signs it.
 */

// ---------------------------------------------------------------- inputs

export interface FakeShopifyLineInput {
  /** Numeric id of the line; given one when left out. */
  id?: number;
  sku?: string | null;
  title: string;
  /** Numeric id of the variant (null: a custom line without a variant). */
  variantId?: number | null;
  quantity: number;
  unitPrice: string;
  /** All discounts allocated to the line (line and order level), in total. */
  discount?: string;
  /** All tax on the line, in total. */
  tax?: string;
}

export interface FakeShopifyTransactionInput {
  kind?: 'SALE' | 'CAPTURE' | 'AUTHORIZATION' | 'REFUND' | 'VOID';
  status?: 'SUCCESS' | 'FAILURE' | 'PENDING' | 'ERROR';
  gateway?: string;
  amount: string;
  fees?: { amount: string; currency?: string; type?: string; rate?: string; flatFee?: string; taxAmount?: string }[];
}

export interface FakeShopifyRefundInput {
  id?: number;
  /** ISO time; default the fake's clock. */
  createdAt?: string;
  note?: string;
  /** Refunded units of the order's lines, by line id or sku. */
  lines?: { lineId?: number; sku?: string; quantity: number; subtotal: string; tax?: string; restockType?: 'RETURN' | 'CANCEL' | 'NO_RESTOCK' | 'LEGACY_RESTOCK' }[];
  shipping?: string;
  shippingTax?: string;
  /** Money given back; default the lines' subtotals and taxes plus the shipping and its tax. */
  total?: string;
  /** The refund's own transactions (kind REFUND); default one for `total`. */
  transactions?: FakeShopifyTransactionInput[];
}

export interface FakeShopifyOrderInput {
  /** Numeric id; a new one when left out. Upserting an existing id replaces the order. */
  id?: number;
  name?: string;
  processedAt: string;
  createdAt?: string;
  /** Default the fake's clock (then at least a second after the order's last change). */
  updatedAt?: string;
  cancelledAt?: string | null;
  test?: boolean;
  taxesIncluded?: boolean;
  /** The shop's currency by default. */
  currency?: string;
  lines: FakeShopifyLineInput[];
  shipping?: { title?: string; price: string; discount?: string; tax?: string }[];
  transactions?: FakeShopifyTransactionInput[];
  refunds?: FakeShopifyRefundInput[];
}

// ---------------------------------------------------------------- stored form

/** Money in ten-thousandths, exact. */
type Units = bigint;

interface Money {
  amount: Units;
  currency: string;
}

interface StoredTransaction {
  id: number;
  kind: string;
  status: string;
  gateway: string;
  amount: Units;
  processedAt: number;
  fees: { id: number; amount: Units; currency: string; type: string; rate: string; flatFee: Units; taxAmount: Units }[];
}

interface StoredLine {
  id: number;
  sku: string | null;
  title: string;
  variantId: number | null;
  quantity: number;
  unitPrice: Units;
  discount: Units;
  tax: Units;
}

interface StoredRefund {
  id: number;
  createdAt: number;
  note: string | null;
  lines: { id: number; lineId: number; quantity: number; subtotal: Units; tax: Units; restockType: string }[];
  shipping: Units;
  shippingTax: Units;
  total: Units;
  transactions: StoredTransaction[];
}

interface StoredOrder {
  id: number;
  name: string;
  createdAt: number;
  updatedAt: number;
  processedAt: number;
  cancelledAt: number | null;
  test: boolean;
  taxesIncluded: boolean;
  currency: string;
  lines: StoredLine[];
  shipping: { id: number; title: string; price: Units; discount: Units; tax: Units }[];
  transactions: StoredTransaction[];
  refunds: StoredRefund[];
}

// ---------------------------------------------------------------- money

const SCALE = 10_000n;

export function toUnits(amount: string): Units {
  const match = /^(-)?(\d+)(?:\.(\d{1,4}))?$/.exec(amount.trim());
  if (!match) throw new Error(`not an amount with at most 4 decimals: "${amount}"`);
  const units = BigInt(match[2]!) * SCALE + BigInt((match[3] ?? '').padEnd(4, '0'));
  return match[1] ? -units : units;
}

/** As Shopify's Decimal scalar reads: no trailing zeros, at least one decimal ("110.0", "12.5", "3.99"). */
export function formatUnits(units: Units): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / SCALE;
  const fraction = (abs % SCALE).toString().padStart(4, '0').replace(/0+$/, '') || '0';
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

const sum = (values: Units[]) => values.reduce((a, b) => a + b, 0n);

// ---------------------------------------------------------------- ids and times

const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;

function parseGid(value: unknown, type: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = new RegExp(`^gid://shopify/${type}/(\\d+)$`).exec(value);
  return match ? Number(match[1]) : undefined;
}

/** Shopify's DateTime: UTC to the second. */
const dateTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function parseTime(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`${what}: not a date-time: "${value}"`);
  return ms;
}

// ---------------------------------------------------------------- schema

type FieldKind = 'scalar' | 'object' | 'list' | 'connection';

interface Context {
  fake: FakeShopify;
  actualCost: number;
}

interface FieldSpec {
  kind: FieldKind;
  /** The object type of an object field, a list's element or a connection's node. */
  type?: string;
  /** Connections and lists: the most `first` may ask for. */
  maxFirst?: number;
  resolve: (parent: never, args: Record<string, unknown>, context: Context) => unknown;
}

interface ConnectionValue {
  nodes: unknown[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const scalar = (resolve: FieldSpec['resolve']): FieldSpec => ({ kind: 'scalar', resolve });
const object = (type: string, resolve: FieldSpec['resolve']): FieldSpec => ({ kind: 'object', type, resolve });
const list = (type: string, resolve: FieldSpec['resolve'], maxFirst?: number): FieldSpec => ({ kind: 'list', type, resolve, ...(maxFirst !== undefined && { maxFirst }) });
const connection = (type: string, resolve: FieldSpec['resolve']): FieldSpec => ({ kind: 'connection', type, maxFirst: 250, resolve });
const money = (get: (parent: never) => Money): FieldSpec => object('MoneyBag', (parent) => get(parent));

/** Paginates an array by position (the nested connections: an order's lines, a refund's lines). */
function sliceConnection(items: unknown[], args: Record<string, unknown>): ConnectionValue {
  const first = args.first as number;
  const after = typeof args.after === 'string' ? decodeCursor(args.after) : undefined;
  const start = after === undefined ? 0 : Number(after.position) + 1;
  const nodes = items.slice(start, start + first);
  return {
    nodes,
    cursors: nodes.map((_, i) => encodeCursor({ position: start + i })),
    hasNextPage: start + first < items.length,
    hasPreviousPage: start > 0,
  };
}

function encodeCursor(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // falls through to the refusal
  }
  throw new FieldError(`Invalid cursor for current pagination sort.`, 'BAD_REQUEST');
}

type LineView = StoredLine & { order: StoredOrder };
type RefundView = StoredRefund & { order: StoredOrder };

const types: Record<string, Record<string, FieldSpec>> = {
  QueryRoot: {
    shop: object('Shop', (_p, _a, { fake }) => fake),
    orders: connection('Order', (_p, args, { fake }) => fake.ordersConnection(args)),
    order: object('Order', (_p, args, { fake }) => fake.findOrder(parseGid(args.id, 'Order'))),
    refund: object('Refund', (_p, args, { fake }) => fake.findRefund(parseGid(args.id, 'Refund'))),
  },
  Shop: {
    id: scalar(() => gid('Shop', 1)),
    name: scalar((fake: FakeShopify) => fake.shopDomain.split('.')[0]),
    myshopifyDomain: scalar((fake: FakeShopify) => fake.shopDomain),
    currencyCode: scalar((fake: FakeShopify) => fake.currency),
    ianaTimezone: scalar((fake: FakeShopify) => fake.timezone),
  },
  Order: {
    id: scalar((o: StoredOrder) => gid('Order', o.id)),
    legacyResourceId: scalar((o: StoredOrder) => String(o.id)),
    name: scalar((o: StoredOrder) => o.name),
    createdAt: scalar((o: StoredOrder) => dateTime(o.createdAt)),
    updatedAt: scalar((o: StoredOrder) => dateTime(o.updatedAt)),
    processedAt: scalar((o: StoredOrder) => dateTime(o.processedAt)),
    cancelledAt: scalar((o: StoredOrder) => (o.cancelledAt === null ? null : dateTime(o.cancelledAt))),
    test: scalar((o: StoredOrder) => o.test),
    taxesIncluded: scalar((o: StoredOrder) => o.taxesIncluded),
    currencyCode: scalar((o: StoredOrder) => o.currency),
    presentmentCurrencyCode: scalar((o: StoredOrder) => o.currency),
    subtotalPriceSet: money((o: StoredOrder) => ({ amount: orderSubtotal(o), currency: o.currency })),
    totalPriceSet: money((o: StoredOrder) => ({ amount: orderTotal(o), currency: o.currency })),
    totalDiscountsSet: money((o: StoredOrder) => ({ amount: sum(o.lines.map((l) => l.discount)) + sum(o.shipping.map((s) => s.discount)), currency: o.currency })),
    totalShippingPriceSet: money((o: StoredOrder) => ({ amount: sum(o.shipping.map((s) => s.price)), currency: o.currency })),
    totalTaxSet: money((o: StoredOrder) => ({ amount: orderTax(o), currency: o.currency })),
    totalRefundedSet: money((o: StoredOrder) => ({ amount: sum(o.refunds.map((r) => r.total)), currency: o.currency })),
    lineItems: connection('LineItem', (o: StoredOrder, args) => sliceConnection(o.lines.map((l) => ({ ...l, order: o })), args)),
    shippingLines: connection('ShippingLine', (o: StoredOrder, args) => sliceConnection(o.shipping.map((s) => ({ ...s, order: o })), args)),
    refunds: list('Refund', (o: StoredOrder, args) => o.refunds.slice(0, (args.first as number | undefined) ?? o.refunds.length).map((r) => ({ ...r, order: o })), 250),
    transactions: list('OrderTransaction', (o: StoredOrder, args) => allTransactions(o).slice(0, (args.first as number | undefined) ?? Infinity).map((t) => ({ ...t, currency: o.currency })), 250),
  },
  LineItem: {
    id: scalar((l: LineView) => gid('LineItem', l.id)),
    name: scalar((l: LineView) => l.title),
    title: scalar((l: LineView) => l.title),
    sku: scalar((l: LineView) => l.sku),
    quantity: scalar((l: LineView) => l.quantity),
    currentQuantity: scalar((l: LineView) => l.quantity - refundedQuantity(l.order, l.id)),
    refundableQuantity: scalar((l: LineView) => l.quantity - refundedQuantity(l.order, l.id)),
    variant: object('ProductVariant', (l: LineView) => (l.variantId === null ? null : { id: l.variantId, sku: l.sku, title: l.title })),
    originalUnitPriceSet: money((l: LineView) => ({ amount: l.unitPrice, currency: l.order.currency })),
    originalTotalSet: money((l: LineView) => ({ amount: l.unitPrice * BigInt(l.quantity), currency: l.order.currency })),
    discountedTotalSet: money((l: LineView) => ({ amount: l.unitPrice * BigInt(l.quantity) - l.discount, currency: l.order.currency })),
    totalDiscountSet: money((l: LineView) => ({ amount: l.discount, currency: l.order.currency })),
    discountAllocations: list('DiscountAllocation', (l: LineView) => (l.discount === 0n ? [] : [{ amount: l.discount, currency: l.order.currency }])),
    taxLines: list('TaxLine', (l: LineView) => (l.tax === 0n ? [] : [{ amount: l.tax, currency: l.order.currency }])),
  },
  ProductVariant: {
    id: scalar((v: { id: number }) => gid('ProductVariant', v.id)),
    legacyResourceId: scalar((v: { id: number }) => String(v.id)),
    sku: scalar((v: { sku: string | null }) => v.sku),
    title: scalar((v: { title: string }) => v.title),
  },
  ShippingLine: {
    id: scalar((s: { id: number }) => gid('ShippingLine', s.id)),
    title: scalar((s: { title: string }) => s.title),
    originalPriceSet: money((s: { price: Units; order: StoredOrder }) => ({ amount: s.price, currency: s.order.currency })),
    discountedPriceSet: money((s: { price: Units; discount: Units; order: StoredOrder }) => ({ amount: s.price - s.discount, currency: s.order.currency })),
    taxLines: list('TaxLine', (s: { tax: Units; order: StoredOrder }) => (s.tax === 0n ? [] : [{ amount: s.tax, currency: s.order.currency }])),
  },
  DiscountAllocation: {
    allocatedAmountSet: money((d: Money) => d),
  },
  TaxLine: {
    title: scalar(() => 'VAT'),
    priceSet: money((t: Money) => t),
  },
  Refund: {
    id: scalar((r: RefundView) => gid('Refund', r.id)),
    createdAt: scalar((r: RefundView) => dateTime(r.createdAt)),
    updatedAt: scalar((r: RefundView) => dateTime(r.createdAt)),
    note: scalar((r: RefundView) => r.note),
    order: object('Order', (r: RefundView) => r.order),
    totalRefundedSet: money((r: RefundView) => ({ amount: r.total, currency: r.order.currency })),
    refundLineItems: connection('RefundLineItem', (r: RefundView, args) =>
      sliceConnection(
        r.lines.map((rl) => ({ ...rl, order: r.order })),
        args,
      ),
    ),
    refundShippingLines: connection('RefundShippingLine', (r: RefundView, args) =>
      sliceConnection(r.shipping === 0n && r.shippingTax === 0n ? [] : [{ id: r.id, amount: r.shipping, tax: r.shippingTax, currency: r.order.currency }], args),
    ),
    transactions: connection('OrderTransaction', (r: RefundView, args) => sliceConnection(r.transactions.map((t) => ({ ...t, currency: r.order.currency })), args)),
  },
  RefundLineItem: {
    id: scalar((rl: { id: number }) => gid('RefundLineItem', rl.id)),
    quantity: scalar((rl: { quantity: number }) => rl.quantity),
    restockType: scalar((rl: { restockType: string }) => rl.restockType),
    restocked: scalar((rl: { restockType: string }) => rl.restockType === 'RETURN' || rl.restockType === 'CANCEL' || rl.restockType === 'LEGACY_RESTOCK'),
    lineItem: object('LineItem', (rl: { lineId: number; order: StoredOrder }) => {
      const line = rl.order.lines.find((l) => l.id === rl.lineId);
      return line ? { ...line, order: rl.order } : null;
    }),
    priceSet: money((rl: { quantity: number; subtotal: Units; order: StoredOrder }) => ({ amount: rl.quantity ? rl.subtotal / BigInt(rl.quantity) : 0n, currency: rl.order.currency })),
    subtotalSet: money((rl: { subtotal: Units; order: StoredOrder }) => ({ amount: rl.subtotal, currency: rl.order.currency })),
    totalTaxSet: money((rl: { tax: Units; order: StoredOrder }) => ({ amount: rl.tax, currency: rl.order.currency })),
  },
  RefundShippingLine: {
    id: scalar((s: { id: number }) => gid('RefundShippingLine', s.id)),
    subtotalAmountSet: money((s: Money & { amount: Units }) => s),
    taxAmountSet: money((s: { tax: Units; currency: string }) => ({ amount: s.tax, currency: s.currency })),
  },
  OrderTransaction: {
    id: scalar((t: StoredTransaction) => gid('OrderTransaction', t.id)),
    kind: scalar((t: StoredTransaction) => t.kind),
    status: scalar((t: StoredTransaction) => t.status),
    gateway: scalar((t: StoredTransaction) => t.gateway),
    processedAt: scalar((t: StoredTransaction) => dateTime(t.processedAt)),
    amountSet: money((t: StoredTransaction & { currency: string }) => ({ amount: t.amount, currency: t.currency })),
    fees: list('TransactionFee', (t: StoredTransaction) => t.fees),
  },
  TransactionFee: {
    id: scalar((f: { id: number }) => gid('TransactionFee', f.id)),
    amount: object('MoneyV2', (f: { amount: Units; currency: string }) => ({ amount: f.amount, currency: f.currency })),
    flatFee: object('MoneyV2', (f: { flatFee: Units; currency: string }) => ({ amount: f.flatFee, currency: f.currency })),
    flatFeeName: scalar(() => null),
    rate: scalar((f: { rate: string }) => f.rate),
    rateName: scalar(() => null),
    taxAmount: object('MoneyV2', (f: { taxAmount: Units; currency: string }) => ({ amount: f.taxAmount, currency: f.currency })),
    type: scalar((f: { type: string }) => f.type),
  },
  MoneyBag: {
    shopMoney: object('MoneyV2', (m: Money) => m),
    presentmentMoney: object('MoneyV2', (m: Money) => m),
  },
  MoneyV2: {
    amount: scalar((m: Money) => formatUnits(m.amount)),
    currencyCode: scalar((m: Money) => m.currency),
  },
};

const orderSubtotal = (o: StoredOrder) => sum(o.lines.map((l) => l.unitPrice * BigInt(l.quantity) - l.discount));
const orderTax = (o: StoredOrder) => sum(o.lines.map((l) => l.tax)) + sum(o.shipping.map((s) => s.tax));
const orderTotal = (o: StoredOrder) =>
  orderSubtotal(o) + sum(o.shipping.map((s) => s.price - s.discount)) + (o.taxesIncluded ? 0n : orderTax(o));
const refundedQuantity = (o: StoredOrder, lineId: number) =>
  o.refunds.flatMap((r) => r.lines.filter((l) => l.lineId === lineId)).reduce((total, l) => total + l.quantity, 0);
const allTransactions = (o: StoredOrder) => [...o.transactions, ...o.refunds.flatMap((r) => r.transactions)];

/** A GraphQL error on a field (bad argument, unknown field): answered, nothing charged. */
class FieldError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function readArgs(field: Field, operation: Operation, variables: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(field.args).map(([name, value]) => [name, valueOf(value, variables, operation.variableDefaults)]));
}

/** Validates the selection and returns its requested cost (Shopify's static estimate). */
function requestedCost(typeName: string, selections: Field[], operation: Operation, variables: Record<string, unknown>): number {
  const fields = types[typeName]!;
  let cost = 0;
  for (const field of selections) {
    if (field.name === '__typename') continue;
    const spec = fields[field.name];
    if (!spec) throw new FieldError(`Field '${field.name}' doesn't exist on type '${typeName}'`, 'undefinedField', { typeName, fieldName: field.name });
    const args = readArgs(field, operation, variables);
    if (spec.kind === 'scalar') {
      if (field.selections.length) throw new FieldError(`Selections can't be made on scalars (field '${field.name}' returns a scalar)`, 'selectionMismatch');
      continue;
    }
    if (!field.selections.length) throw new FieldError(`Field must have selections (field '${field.name}' returns ${spec.type} but has no selections)`, 'selectionMismatch');
    if (spec.kind === 'object') {
      cost += 1 + requestedCost(spec.type!, field.selections, operation, variables);
      continue;
    }
    const first = args.first ?? args.last;
    if (spec.kind === 'connection' && first === undefined) {
      throw new FieldError(`You must provide one of first or last (field '${field.name}')`, 'BAD_REQUEST');
    }
    if (first !== undefined && (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > (spec.maxFirst ?? 250))) {
      throw new FieldError(`The '${args.first !== undefined ? 'first' : 'last'}' argument of '${field.name}' must be between 0 and ${spec.maxFirst ?? 250}, got ${JSON.stringify(first)}`, 'BAD_REQUEST');
    }
    if (spec.kind === 'list') {
      cost += (first ?? 1) * (1 + requestedCost(spec.type!, field.selections, operation, variables));
      continue;
    }
    let nodeCost = 0;
    for (const part of field.selections) {
      if (part.name === 'nodes') nodeCost += 1 + requestedCost(spec.type!, part.selections, operation, variables);
      else if (part.name === 'edges') {
        for (const edgePart of part.selections) {
          if (edgePart.name === 'node') nodeCost += 1 + requestedCost(spec.type!, edgePart.selections, operation, variables);
          else if (edgePart.name !== 'cursor' && edgePart.name !== '__typename') throw new FieldError(`Field '${edgePart.name}' doesn't exist on type '${spec.type}Edge'`, 'undefinedField');
        }
      } else if (part.name !== 'pageInfo' && part.name !== '__typename') {
        throw new FieldError(`Field '${part.name}' doesn't exist on type '${spec.type}Connection'`, 'undefinedField');
      }
    }
    cost += 2 + (first as number) * nodeCost;
  }
  return cost;
}

function execute(typeName: string, parent: unknown, selections: Field[], operation: Operation, variables: Record<string, unknown>, context: Context): Record<string, unknown> {
  const fields = types[typeName]!;
  const out: Record<string, unknown> = {};
  for (const field of selections) {
    if (field.name === '__typename') {
      out[field.alias] = typeName;
      continue;
    }
    const spec = fields[field.name]!;
    const value = (spec.resolve as (p: unknown, a: Record<string, unknown>, c: Context) => unknown)(parent, readArgs(field, operation, variables), context);
    if (spec.kind === 'scalar') {
      out[field.alias] = value ?? null;
    } else if (spec.kind === 'object') {
      if (value === null || value === undefined) out[field.alias] = null;
      else {
        context.actualCost += 1;
        out[field.alias] = execute(spec.type!, value, field.selections, operation, variables, context);
      }
    } else if (spec.kind === 'list') {
      const items = value as unknown[];
      context.actualCost += items.length;
      out[field.alias] = items.map((item) => execute(spec.type!, item, field.selections, operation, variables, context));
    } else {
      const page = value as ConnectionValue;
      context.actualCost += 2 + page.nodes.length;
      const result: Record<string, unknown> = {};
      for (const part of field.selections) {
        if (part.name === '__typename') result[part.alias] = `${spec.type}Connection`;
        else if (part.name === 'nodes') result[part.alias] = page.nodes.map((node) => execute(spec.type!, node, part.selections, operation, variables, context));
        else if (part.name === 'pageInfo') {
          const info: Record<string, unknown> = {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: page.hasPreviousPage,
            startCursor: page.cursors[0] ?? null,
            endCursor: page.cursors[page.cursors.length - 1] ?? null,
          };
          result[part.alias] = Object.fromEntries(part.selections.map((s) => [s.alias, s.name === '__typename' ? 'PageInfo' : (info[s.name] ?? null)]));
        } else if (part.name === 'edges') {
          result[part.alias] = page.nodes.map((node, i) =>
            Object.fromEntries(
              part.selections.map((s) => [
                s.alias,
                s.name === 'cursor' ? page.cursors[i] : s.name === '__typename' ? `${spec.type}Edge` : execute(spec.type!, node, s.selections, operation, variables, context),
              ]),
            ),
          );
        }
      }
      out[field.alias] = result;
    }
  }
  return out;
}

// ---------------------------------------------------------------- search syntax

type Comparison = { field: 'updated_at' | 'created_at' | 'processed_at'; op: '>' | '>=' | '<' | '<=' | '='; at: number };

/** The date terms of Shopify's search syntax (`updated_at:>='2024-05-01T10:00:00Z'`); other terms are ignored, as Shopify ignores unknown fields. */
function parseSearch(query: unknown): Comparison[] {
  if (query === undefined || query === null || query === '') return [];
  if (typeof query !== 'string') throw new FieldError(`The 'query' argument must be a string`, 'BAD_REQUEST');
  const terms: Comparison[] = [];
  const pattern = /(updated_at|created_at|processed_at):(>=|<=|>|<)?\s*(?:'([^']*)'|"([^"]*)"|(\S+))/g;
  for (const match of query.matchAll(pattern)) {
    const raw = match[3] ?? match[4] ?? match[5] ?? '';
    const at = Date.parse(raw);
    if (Number.isNaN(at)) throw new FieldError(`Invalid date in search query: ${raw}`, 'BAD_REQUEST');
    terms.push({ field: match[1] as Comparison['field'], op: (match[2] ?? '=') as Comparison['op'], at });
  }
  return terms;
}

function matches(order: StoredOrder, terms: Comparison[]): boolean {
  return terms.every((t) => {
    // Compared at the second, as Shopify stores these times.
    const value = Math.floor((t.field === 'updated_at' ? order.updatedAt : t.field === 'created_at' ? order.createdAt : order.processedAt) / 1000);
    const at = Math.floor(t.at / 1000);
    switch (t.op) {
      case '>':
        return value > at;
      case '>=':
        return value >= at;
      case '<':
        return value < at;
      case '<=':
        return value <= at;
      case '=':
        return value === at;
    }
  });
}

const SORT_KEYS = ['ID', 'UPDATED_AT', 'CREATED_AT', 'PROCESSED_AT'] as const;
type SortKey = (typeof SORT_KEYS)[number];
const sortValue = (o: StoredOrder, key: SortKey) =>
  key === 'UPDATED_AT' ? Math.floor(o.updatedAt / 1000) : key === 'CREATED_AT' ? Math.floor(o.createdAt / 1000) : key === 'PROCESSED_AT' ? Math.floor(o.processedAt / 1000) : o.id;

// ---------------------------------------------------------------- the server

export interface FakeShopifyClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface FakeShopifyOptions {
  port?: number;
  host?: string;
  shopDomain?: string;
  /** The token `X-Shopify-Access-Token` must carry. */
  accessToken?: string;
  currency?: string;
  timezone?: string;
  /** The bucket: its size and how many points it regains per second (Standard plan: 100/s). */
  maximumAvailable?: number;
  restoreRate?: number;
  /** The most a single query may cost. */
  maxQueryCost?: number;
  /** HTTP status of a THROTTLED answer: Shopify documents 200; some clients report 429. */
  throttledStatus?: 200 | 429;
  /** The app's secret: what webhooks are signed with. */
  webhookSecret?: string;
  /** Time for the bucket and for updatedAt of changes; the real clock by default. */
  clock?: FakeShopifyClock;
  latencyMs?: number;
}

export interface RecordedShopifyRequest {
  at: number;
  method: string;
  path: string;
  apiVersion: string | undefined;
  /** Every header except the access token. */
  headers: Record<string, string>;
  operationName: string | undefined;
  /** The root fields queried. */
  rootFields: string[];
  variables: Record<string, unknown>;
  status: number;
  /** The first GraphQL error code, if any (THROTTLED, MAX_COST_EXCEEDED, undefinedField, …). */
  errorCode?: string;
  throttled: boolean;
  requestedCost?: number;
  actualCost?: number;
  /** Points in the bucket when the request arrived. */
  availableBefore: number;
}

export interface FakeShopifyErrorSpec {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeShopifyWebhook {
  topic: string;
  payload: unknown;
  /** Default: the fake's webhookSecret. */
  secret?: string;
  /** Sent instead of the correct signature (to test refusals). */
  hmac?: string;
  webhookId?: string;
  eventId?: string;
  triggeredAt?: string;
  apiVersion?: string;
}

/** What `order(id)` gives tests: the order as stored, money as decimal strings. */
export interface FakeShopifyOrderView {
  id: number;
  gid: string;
  name: string;
  updatedAt: string;
  processedAt: string;
  refunds: number;
}

export class FakeShopify {
  /** `http://127.0.0.1:<port>`: the base URL a client puts `/admin/api/{version}/graphql.json` after. */
  readonly url: string;
  readonly shopDomain: string;
  readonly accessToken: string;
  readonly currency: string;
  readonly timezone: string;
  readonly webhookSecret: string;
  private readonly server: LoopbackServer;
  private readonly options: FakeShopifyOptions;
  private readonly clock: FakeShopifyClock;
  private readonly recorder = new Recorder<RecordedShopifyRequest>();
  private readonly closing = new AbortController();
  private readonly injected: { error: FakeShopifyErrorSpec; remaining: number }[] = [];
  private readonly orders = new Map<number, StoredOrder>();
  private readonly sorted = new Map<SortKey, StoredOrder[]>();
  private nextId = 1000;
  private bucket: { maximumAvailable: number; restoreRate: number; available: number; at: number };
  private charged = 0;

  private constructor(server: LoopbackServer, options: FakeShopifyOptions) {
    this.server = server;
    this.url = server.url;
    this.options = options;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.shopDomain = options.shopDomain ?? 'fake-store.myshopify.com';
    this.accessToken = options.accessToken ?? 'shpat_fake_token';
    this.currency = options.currency ?? 'EUR';
    this.timezone = options.timezone ?? 'Europe/Amsterdam';
    this.webhookSecret = options.webhookSecret ?? 'fake-shopify-app-secret';
    const maximumAvailable = options.maximumAvailable ?? 1000;
    this.bucket = { maximumAvailable, restoreRate: options.restoreRate ?? 100, available: maximumAvailable, at: this.clock.now() };
  }

  static start(options: FakeShopifyOptions = {}): Promise<FakeShopify> {
    return startFake(options, (server) => new FakeShopify(server, options), (fake, req, res) => fake.handle(req, res));
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.server.close();
  }

  get requests(): readonly RecordedShopifyRequest[] {
    return this.recorder.all;
  }

  /** How many requests were answered THROTTLED. */
  get throttledCount(): number {
    return this.recorder.all.filter((r) => r.throttled).length;
  }

  /** Points taken from the bucket so far (actual costs of the queries that ran). */
  get pointsCharged(): number {
    return this.charged;
  }

  get orderCount(): number {
    return this.orders.size;
  }

  waitForRequest(predicate: (request: RecordedShopifyRequest) => boolean, timeoutMs = 5000): Promise<RecordedShopifyRequest> {
    return this.recorder.waitFor(predicate, timeoutMs, (all) => `${all.length} request(s) received`);
  }

  /** The next `times` requests fail with this HTTP answer (a 502, a 503 with Retry-After …). */
  injectError(error: FakeShopifyErrorSpec, times = 1): this {
    this.injected.push({ error, remaining: times });
    return this;
  }

  /** The bucket as it is now. */
  throttleStatus(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    this.refill();
    return { maximumAvailable: this.bucket.maximumAvailable, currentlyAvailable: this.bucket.available, restoreRate: this.bucket.restoreRate };
  }

  /** Leaves `points` in the bucket (another app of the store spent the rest). */
  drainBucket(points = 0): this {
    this.refill();
    this.bucket.available = Math.max(0, Math.min(points, this.bucket.maximumAvailable));
    return this;
  }

  setBucket(bucket: { maximumAvailable?: number; restoreRate?: number }): this {
    this.refill();
    if (bucket.maximumAvailable !== undefined) this.bucket.maximumAvailable = bucket.maximumAvailable;
    if (bucket.restoreRate !== undefined) this.bucket.restoreRate = bucket.restoreRate;
    this.bucket.available = Math.min(this.bucket.available, this.bucket.maximumAvailable);
    return this;
  }

  // ------------------------------------------------------------ orders

  /** Adds an order, or replaces the one with its id; either way its updatedAt moves. Returns its numeric id. */
  upsertOrder(input: FakeShopifyOrderInput): number {
    const id = input.id ?? this.newId();
    this.nextId = Math.max(this.nextId, id + 1);
    const previous = this.orders.get(id);
    const currency = input.currency ?? this.currency;
    const lines: StoredLine[] = input.lines.map((l) => ({
      id: l.id ?? this.newId(),
      sku: l.sku ?? null,
      title: l.title,
      variantId: l.variantId ?? null,
      quantity: l.quantity,
      unitPrice: toUnits(l.unitPrice),
      discount: toUnits(l.discount ?? '0'),
      tax: toUnits(l.tax ?? '0'),
    }));
    const processedAt = parseTime(input.processedAt, 'processedAt');
    const order: StoredOrder = {
      id,
      name: input.name ?? `#${id}`,
      createdAt: input.createdAt ? parseTime(input.createdAt, 'createdAt') : (previous?.createdAt ?? processedAt),
      updatedAt: 0,
      processedAt,
      cancelledAt: input.cancelledAt ? parseTime(input.cancelledAt, 'cancelledAt') : null,
      test: input.test ?? false,
      taxesIncluded: input.taxesIncluded ?? false,
      currency,
      lines,
      shipping: (input.shipping ?? []).map((s) => ({
        id: this.newId(),
        title: s.title ?? 'Standard',
        price: toUnits(s.price),
        discount: toUnits(s.discount ?? '0'),
        tax: toUnits(s.tax ?? '0'),
      })),
      transactions: (input.transactions ?? []).map((t) => this.transaction(t, processedAt, currency, 'SALE')),
      refunds: [],
    };
    for (const refund of input.refunds ?? []) order.refunds.push(this.refund(order, refund));
    order.updatedAt = this.changeTime(input.updatedAt, previous);
    this.orders.set(id, order);
    this.sorted.clear();
    return id;
  }

  /** Adds a refund to an order (its updatedAt moves, as Shopify's does); returns the refund's numeric id. */
  addRefund(orderId: number, input: FakeShopifyRefundInput): number {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    const refund = this.refund(order, input);
    order.refunds.push(refund);
    order.updatedAt = this.changeTime(input.createdAt, order);
    this.sorted.clear();
    return refund.id;
  }

  cancelOrder(orderId: number, at?: string): void {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    order.cancelledAt = at ? parseTime(at, 'cancelledAt') : this.clock.now();
    order.updatedAt = this.changeTime(at, order);
    this.sorted.clear();
  }

  order(orderId: number): FakeShopifyOrderView {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    return { id: order.id, gid: gid('Order', order.id), name: order.name, updatedAt: dateTime(order.updatedAt), processedAt: dateTime(order.processedAt), refunds: order.refunds.length };
  }

  /** A webhook body for an order topic, shaped like Shopify's (REST representation, the fields a receiver reads). */
  orderWebhookPayload(orderId: number): Record<string, unknown> {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    return {
      id: order.id,
      admin_graphql_api_id: gid('Order', order.id),
      name: order.name,
      created_at: dateTime(order.createdAt),
      updated_at: dateTime(order.updatedAt),
      processed_at: dateTime(order.processedAt),
      cancelled_at: order.cancelledAt === null ? null : dateTime(order.cancelledAt),
      currency: order.currency,
      taxes_included: order.taxesIncluded,
      test: order.test,
      total_price: formatUnits(orderTotal(order)),
      line_items: order.lines.map((l) => ({ id: l.id, sku: l.sku, title: l.title, quantity: l.quantity, price: formatUnits(l.unitPrice), variant_id: l.variantId })),
    };
  }

  refundWebhookPayload(orderId: number, refundId: number): Record<string, unknown> {
    const order = this.orders.get(orderId);
    const refund = order?.refunds.find((r) => r.id === refundId);
    if (!order || !refund) throw new Error(`no refund ${refundId} on order ${orderId}`);
    return { id: refund.id, admin_graphql_api_id: gid('Refund', refund.id), order_id: order.id, created_at: dateTime(refund.createdAt), note: refund.note };
  }

  /**
   * POSTs a webhook as Shopify does: the JSON body signed with HMAC-SHA256 under the
   * app secret (base64, `X-Shopify-Hmac-Sha256`), with the topic, shop, API version,
   * webhook id, event id and trigger time in headers. A retry is the same call with
   * the same webhookId and eventId.
   */
  async sendWebhook(url: string, webhook: FakeShopifyWebhook): Promise<{ status: number; body: string; webhookId: string; eventId: string }> {
    const body = JSON.stringify(webhook.payload);
    const webhookId = webhook.webhookId ?? randomUUID();
    const eventId = webhook.eventId ?? randomUUID();
    const hmac = webhook.hmac ?? createHmac('sha256', webhook.secret ?? this.webhookSecret).update(body, 'utf8').digest('base64');
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': webhook.topic,
        'x-shopify-hmac-sha256': hmac,
        'x-shopify-shop-domain': this.shopDomain,
        'x-shopify-api-version': webhook.apiVersion ?? '2025-10',
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': webhook.triggeredAt ?? new Date(this.clock.now()).toISOString(),
      },
      body,
    });
    return { status: res.status, body: await res.text(), webhookId, eventId };
  }

  // ------------------------------------------------------------ resolvers' access

  /** @internal the `orders` connection. */
  ordersConnection(args: Record<string, unknown>): ConnectionValue {
    const sortKey = (args.sortKey ?? 'ID') as SortKey;
    if (!SORT_KEYS.includes(sortKey)) throw new FieldError(`Argument 'sortKey' on Field 'orders' has an invalid value (${String(args.sortKey)}). Expected type 'OrderSortKeys'.`, 'argumentLiteralsIncompatible');
    if (args.last !== undefined || args.before !== undefined) throw new FieldError('This fake pages orders forwards only (first/after)', 'BAD_REQUEST');
    const terms = parseSearch(args.query);
    const reverse = args.reverse === true;
    const first = args.first as number;
    const after = typeof args.after === 'string' ? decodeCursor(args.after) : undefined;
    const seen = after ? Number(after.seen ?? 0) : 0;
    const sorted = this.sortedBy(sortKey);
    const key = (o: StoredOrder): [number, number] => [sortValue(o, sortKey), o.id];
    const before = (a: [number, number], b: [number, number]) => (a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1]);
    // The first position after the cursor (in the direction of travel), found by bisection.
    let index: number;
    if (after) {
      const mark: [number, number] = [Number(after.k), Number(after.id)];
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(key(sorted[mid]!), mark) || (!reverse && key(sorted[mid]!)[0] === mark[0] && key(sorted[mid]!)[1] === mark[1])) lo = mid + 1;
        else hi = mid;
      }
      index = reverse ? lo - 1 : lo;
    } else {
      index = reverse ? sorted.length - 1 : 0;
    }
    const step = reverse ? -1 : 1;
    const nodes: StoredOrder[] = [];
    // Shopify stops paginating a connection at 25,000 objects.
    const room = Math.max(0, Math.min(first, PAGINATION_LIMIT - seen));
    let more = false;
    for (let i = index; i >= 0 && i < sorted.length; i += step) {
      const order = sorted[i]!;
      if (!matches(order, terms)) continue;
      if (nodes.length === room) {
        more = seen + nodes.length < PAGINATION_LIMIT;
        break;
      }
      nodes.push(order);
    }
    return {
      nodes,
      cursors: nodes.map((o, i) => encodeCursor({ k: sortValue(o, sortKey), id: o.id, seen: seen + i + 1 })),
      hasNextPage: more,
      hasPreviousPage: after !== undefined,
    };
  }

  /** @internal */
  findOrder(id: number | undefined): StoredOrder | null {
    return id === undefined ? null : (this.orders.get(id) ?? null);
  }

  /** @internal */
  findRefund(id: number | undefined): RefundView | null {
    if (id === undefined) return null;
    for (const order of this.orders.values()) {
      const refund = order.refunds.find((r) => r.id === id);
      if (refund) return { ...refund, order };
    }
    return null;
  }

  // ------------------------------------------------------------ internals

  private newId(): number {
    this.nextId += 1;
    return this.nextId;
  }

  /** A change's updatedAt: as given, or now, but never before (or in the same second as) the order's previous change. */
  private changeTime(given: string | undefined, previous: StoredOrder | undefined): number {
    if (given) return parseTime(given, 'updatedAt');
    const now = this.clock.now();
    return previous ? Math.max(now, (Math.floor(previous.updatedAt / 1000) + 1) * 1000) : now;
  }

  private transaction(input: FakeShopifyTransactionInput, at: number, currency: string, kind: string): StoredTransaction {
    return {
      id: this.newId(),
      kind: input.kind ?? kind,
      status: input.status ?? 'SUCCESS',
      gateway: input.gateway ?? 'shopify_payments',
      amount: toUnits(input.amount),
      processedAt: at,
      fees: (input.fees ?? []).map((f) => ({
        id: this.newId(),
        amount: toUnits(f.amount),
        currency: f.currency ?? currency,
        type: f.type ?? 'payment_fee',
        rate: f.rate ?? '0.0',
        flatFee: toUnits(f.flatFee ?? '0'),
        taxAmount: toUnits(f.taxAmount ?? '0'),
      })),
    };
  }

  private refund(order: StoredOrder, input: FakeShopifyRefundInput): StoredRefund {
    const createdAt = input.createdAt ? parseTime(input.createdAt, 'refund createdAt') : this.clock.now();
    const lines = (input.lines ?? []).map((l) => {
      const line = order.lines.find((candidate) => (l.lineId !== undefined ? candidate.id === l.lineId : candidate.sku === l.sku));
      if (!line) throw new Error(`order ${order.id} has no line ${l.lineId ?? l.sku}`);
      return { id: this.newId(), lineId: line.id, quantity: l.quantity, subtotal: toUnits(l.subtotal), tax: toUnits(l.tax ?? '0'), restockType: l.restockType ?? 'RETURN' };
    });
    const shipping = toUnits(input.shipping ?? '0');
    const shippingTax = toUnits(input.shippingTax ?? '0');
    const total = input.total !== undefined ? toUnits(input.total) : sum(lines.map((l) => l.subtotal + (order.taxesIncluded ? 0n : l.tax))) + shipping + (order.taxesIncluded ? 0n : shippingTax);
    const transactions = (input.transactions ?? [{ amount: formatUnits(total) }]).map((t) => this.transaction(t, createdAt, order.currency, 'REFUND'));
    return { id: input.id ?? this.newId(), createdAt, note: input.note ?? null, lines, shipping, shippingTax, total, transactions };
  }

  private sortedBy(key: SortKey): StoredOrder[] {
    let sorted = this.sorted.get(key);
    if (!sorted) {
      sorted = [...this.orders.values()].sort((a, b) => sortValue(a, key) - sortValue(b, key) || a.id - b.id);
      this.sorted.set(key, sorted);
    }
    return sorted;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.bucket.at) / 1000;
    this.bucket.available = Math.min(this.bucket.maximumAvailable, this.bucket.available + elapsed * this.bucket.restoreRate);
    this.bucket.at = now;
  }

  private costExtension(requested: number, actual: number | null) {
    const status = this.throttleStatus();
    return {
      cost: {
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: { maximumAvailable: status.maximumAvailable, currentlyAvailable: Math.floor(status.currentlyAvailable), restoreRate: status.restoreRate },
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    this.refill();
    const record: RecordedShopifyRequest = {
      at: this.clock.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      apiVersion: undefined,
      headers: headersWithoutSecrets(req, ['x-shopify-access-token']),
      operationName: undefined,
      rootFields: [],
      variables: {},
      status: 0,
      throttled: false,
      availableBefore: Math.floor(this.bucket.available),
    };
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      this.recorder.push(record);
      sendJson(res, status, body, { 'x-request-id': randomUUID(), ...headers });
    };

    const route = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(url.pathname);
    if (!route || req.method !== 'POST') return answer(404, { errors: 'Not Found' });
    const version = route[1]!;
    record.apiVersion = version;
    if (!/^(\d{4}-(01|04|07|10)|unstable)$/.test(version)) return answer(404, { errors: 'Not Found' });
    const token = req.headers['x-shopify-access-token'];
    if (token !== this.accessToken) return answer(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });

    const raw = await readBody(req);
    const injected = this.injected[0];
    if (injected) {
      injected.remaining -= 1;
      if (injected.remaining <= 0) this.injected.shift();
      return answer(injected.error.status, injected.error.body ?? { errors: 'Internal Server Error' }, injected.error.headers);
    }

    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return answer(400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    if (typeof body?.query !== 'string') return answer(400, { errors: { query: 'Required parameter missing or invalid' } });
    const variables = (typeof body.variables === 'object' && body.variables !== null ? body.variables : {}) as Record<string, unknown>;
    record.variables = variables;

    let operation: Operation;
    try {
      operation = parseOperation(body.query, typeof body.operationName === 'string' ? body.operationName : undefined);
    } catch (err) {
      if (!(err instanceof GraphQLSyntaxError)) throw err;
      record.errorCode = 'parseError';
      return answer(200, { errors: [{ message: `Parse error: ${err.message}`, locations: [{ line: err.line, column: err.column }], extensions: { code: 'parseError' } }] });
    }
    record.operationName = operation.name;
    record.rootFields = operation.selections.map((f) => f.name);
    if (operation.type !== 'query') {
      record.errorCode = 'undefinedField';
      return answer(200, { errors: [{ message: 'This fake answers queries only', extensions: { code: 'undefinedField' } }] });
    }

    let requested: number;
    try {
      requested = requestedCost('QueryRoot', operation.selections, operation, variables);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      record.errorCode = err.code;
      return answer(200, { errors: [{ message: err.message, extensions: { code: err.code, ...err.extra } }] });
    }
    record.requestedCost = requested;
    const maxCost = this.options.maxQueryCost ?? 1000;
    if (requested > maxCost) {
      record.errorCode = 'MAX_COST_EXCEEDED';
      return answer(200, {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${maxCost}). Ask for fewer objects, or use a bulk operation.`,
            extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost, documentation: 'https://shopify.dev/api/usage/rate-limits' },
          },
        ],
        extensions: this.costExtension(requested, null),
      });
    }
    if (requested > this.bucket.available) {
      record.throttled = true;
      record.errorCode = 'THROTTLED';
      return answer(this.options.throttledStatus ?? 200, {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: this.costExtension(requested, null),
      });
    }

    // The requested cost is taken now; what the query did not use is given back after it.
    this.bucket.available -= requested;
    const context: Context = { fake: this, actualCost: 0 };
    let data: Record<string, unknown>;
    try {
      data = execute('QueryRoot', this, operation.selections, operation, variables, context);
    } catch (err) {
      this.bucket.available += requested;
      if (!(err instanceof FieldError)) throw err;
      record.errorCode = err.code;
      return answer(200, { errors: [{ message: err.message, extensions: { code: err.code, ...err.extra } }], extensions: this.costExtension(requested, 0) });
    }
    const actual = context.actualCost;
    this.bucket.available += requested - actual;
    this.charged += actual;
    record.actualCost = actual;

    const signal = AbortSignal.any([clientGone(req, res), this.closing.signal]);
    await sleep(this.options.latencyMs ?? 0, signal);
    if (signal.aborted) {
      this.recorder.push(record);
      return;
    }
    answer(200, { data, extensions: this.costExtension(requested, actual) });
  }
}

const PAGINATION_LIMIT = 25_000;
