import type { ShopifyClient } from './client';
import { ShopifyApiError, SHOPIFY_MAX_QUERY_COST } from './client';

/**
 * Reading changed orders from Shopify, complete: the orders connection filtered on
 * updated_at and sorted by it, with each order's lines, refunds (with their lines)
 * and transactions (with their fees).
 *
 * Shopify charges a query its *requested* cost up front — a connection counts as if
 * full — and caps a single query at 1,000 points, so nested lists are asked for in
 * small numbers and the page holds as many orders as that budget allows (up to 250).
 * An order with more lines, refunds or transactions than fit is completed by
 * follow-up queries of its own. After 20,000 orders one connection is left and the
 * query starts again from the last updatedAt seen: Shopify stops a connection at
 * 25,000 objects.
 */

export interface ShopMoney {
  amount: string;
  currencyCode: string;
}
export interface MoneyBagNode {
  shopMoney: ShopMoney;
}
interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
interface Connection<T> {
  pageInfo: PageInfo;
  nodes: T[];
}

export interface LineNode {
  id: string;
  sku: string | null;
  name: string;
  quantity: number;
  variant: { id: string } | null;
  originalUnitPriceSet: MoneyBagNode;
  discountAllocations: { allocatedAmountSet: MoneyBagNode }[];
  taxLines: { priceSet: MoneyBagNode }[];
}

export interface RefundLineNode {
  quantity: number;
  restockType: string;
  lineItem: { id: string } | null;
  subtotalSet: MoneyBagNode;
  totalTaxSet: MoneyBagNode;
}

export interface RefundShippingLineNode {
  taxAmountSet: MoneyBagNode;
}

export interface RefundNode {
  id: string;
  createdAt: string;
  totalRefundedSet: MoneyBagNode;
  refundLineItems: Connection<RefundLineNode>;
  refundShippingLines: Connection<RefundShippingLineNode>;
}

export interface TransactionNode {
  id: string;
  kind: string;
  status: string;
  fees: { amount: ShopMoney }[];
}

export interface OrderNode {
  id: string;
  name: string;
  test: boolean;
  processedAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  taxesIncluded: boolean;
  currencyCode: string;
  totalDiscountsSet: MoneyBagNode;
  totalShippingPriceSet: MoneyBagNode;
  totalTaxSet: MoneyBagNode;
  totalRefundedSet: MoneyBagNode;
  lineItems: Connection<LineNode>;
  refunds: RefundNode[];
  transactions: TransactionNode[];
}

const MONEY = 'shopMoney { amount currencyCode }';
// Requested cost of each selection, by Shopify's rules: an object 1, a MoneyBag 2 (it and its shopMoney).
const LINE = `id sku name quantity variant { id } originalUnitPriceSet { ${MONEY} } discountAllocations { allocatedAmountSet { ${MONEY} } } taxLines { priceSet { ${MONEY} } }`;
const LINE_COST = 1 + 1 + 2 + (1 + 2) + (1 + 2);
const REFUND_LINE = `quantity restockType lineItem { id } subtotalSet { ${MONEY} } totalTaxSet { ${MONEY} }`;
const REFUND_LINE_COST = 1 + 1 + 2 + 2;
const REFUND_SHIPPING = `taxAmountSet { ${MONEY} }`;
const REFUND_SHIPPING_COST = 1 + 2;
const TRANSACTION = `id kind status fees { amount { amount currencyCode } }`;
const TRANSACTION_COST = 1 + (1 + 1);

/** How many of each nested list a page asks for; more are fetched by follow-up queries. */
export const NESTED = { lines: 5, refunds: 2, refundLines: 5, refundShipping: 1, transactions: 4 } as const;
const FOLLOW_UP = { lines: 90, refunds: 15, refundLines: 150, refundShipping: 50, transactions: 50 } as const;

const refund = `id createdAt totalRefundedSet { ${MONEY} }
      refundLineItems(first: ${NESTED.refundLines}) { pageInfo { hasNextPage endCursor } nodes { ${REFUND_LINE} } }
      refundShippingLines(first: ${NESTED.refundShipping}) { pageInfo { hasNextPage endCursor } nodes { ${REFUND_SHIPPING} } }`;
const REFUND_COST = 1 + 2 + (2 + NESTED.refundLines * REFUND_LINE_COST) + (2 + NESTED.refundShipping * REFUND_SHIPPING_COST);

const ORDER = `id name test processedAt updatedAt cancelledAt taxesIncluded currencyCode
      totalDiscountsSet { ${MONEY} } totalShippingPriceSet { ${MONEY} } totalTaxSet { ${MONEY} } totalRefundedSet { ${MONEY} }
      lineItems(first: ${NESTED.lines}) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } }
      refunds(first: ${NESTED.refunds}) { ${refund} }
      transactions(first: ${NESTED.transactions}) { ${TRANSACTION} }`;
/** One order of a page, as Shopify prices it before running the query. */
export const ORDER_COST = 1 + 4 * 2 + (2 + NESTED.lines * LINE_COST) + NESTED.refunds * REFUND_COST + NESTED.transactions * TRANSACTION_COST;

export const ORDERS_QUERY = `query DealDomeOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ${ORDER} }
  }
}`;
export const ordersPageCost = (first: number) => 2 + first * ORDER_COST;

const ORDER_LINES_QUERY = `query DealDomeOrderLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: ${FOLLOW_UP.lines}, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } } }
}`;
const ORDER_LINES_COST = 1 + 2 + FOLLOW_UP.lines * LINE_COST;

const ORDER_LISTS_QUERY = `query DealDomeOrderRefunds($id: ID!) {
  order(id: $id) { refunds(first: ${FOLLOW_UP.refunds}) { ${refund} } transactions(first: ${FOLLOW_UP.transactions}) { ${TRANSACTION} } }
}`;
const ORDER_LISTS_COST = 1 + FOLLOW_UP.refunds * REFUND_COST + FOLLOW_UP.transactions * TRANSACTION_COST;

const REFUND_LINES_QUERY = `query DealDomeRefundLines($id: ID!, $after: String) {
  refund(id: $id) { refundLineItems(first: ${FOLLOW_UP.refundLines}, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${REFUND_LINE} } } }
}`;
const REFUND_LINES_COST = 1 + 2 + FOLLOW_UP.refundLines * REFUND_LINE_COST;

const REFUND_SHIPPING_QUERY = `query DealDomeRefundShipping($id: ID!, $after: String) {
  refund(id: $id) { refundShippingLines(first: ${FOLLOW_UP.refundShipping}, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${REFUND_SHIPPING} } } }
}`;
const REFUND_SHIPPING_QUERY_COST = 1 + 2 + FOLLOW_UP.refundShipping * REFUND_SHIPPING_COST;

/** Orders read from one connection before starting a new query from the last updatedAt (Shopify stops at 25,000). */
export const RESTART_AFTER = 20_000;

/** The most orders a page may ask for: Shopify's 250, and what the single-query cap and the bucket allow. */
export function ordersPageSize(maximumAvailable: number | undefined): number {
  const budget = Math.min(SHOPIFY_MAX_QUERY_COST, maximumAvailable ?? SHOPIFY_MAX_QUERY_COST);
  const size = Math.min(250, Math.floor((budget - 2) / ORDER_COST));
  if (size < 1) throw new ShopifyApiError('max_cost', `an order costs ${ORDER_COST} points to read, more than the store's bucket of ${budget} holds`);
  return size;
}

/** Shopify's search syntax for "changed at or after": the boundary second is read again, so none is missed. */
export const changedSince = (since: Date) => `updated_at:>='${since.toISOString().replace(/\.\d{3}Z$/, 'Z')}'`;

export interface OrderPage {
  orders: OrderNode[];
  /** Follow-up queries this page needed. */
  followUps: number;
}

/**
 * Pages of complete orders changed at or after `since`, oldest change first. Each
 * page is complete before it is yielded, so a caller may store it and move its
 * cursor to the page's last updatedAt.
 */
export async function* changedOrders(client: ShopifyClient, since: Date, signal?: AbortSignal): AsyncGenerator<OrderPage> {
  let from = since;
  for (;;) {
    let after: string | null = null;
    let read = 0;
    let last: OrderNode | undefined;
    let restart = false;
    for (;;) {
      const first = ordersPageSize(client.throttleStatus?.maximumAvailable);
      const answer = await client.query<{ orders: Connection<OrderNode> }>(
        ORDERS_QUERY,
        { first, after, query: changedSince(from) },
        { expectedCost: ordersPageCost(first), ...(signal && { signal }) },
      );
      const page: Connection<OrderNode> = answer.data.orders;
      let followUps = 0;
      for (const order of page.nodes) followUps += await complete(client, order, signal);
      if (page.nodes.length) yield { orders: page.nodes, followUps };
      read += page.nodes.length;
      last = page.nodes[page.nodes.length - 1] ?? last;
      if (!page.pageInfo.hasNextPage) break;
      if (read >= RESTART_AFTER && last) {
        restart = true;
        break;
      }
      after = page.pageInfo.endCursor;
    }
    if (!restart || !last) return;
    const next = new Date(last.updatedAt);
    // Every order read shares one second: starting again would read them again, for ever.
    if (next.getTime() <= from.getTime()) throw new Error(`more than ${RESTART_AFTER} orders were changed in the second ${last.updatedAt}; they cannot be paged through`);
    from = next;
  }
}

/** Fetches what an order's page left out; returns the number of follow-up queries. */
async function complete(client: ShopifyClient, order: OrderNode, signal?: AbortSignal): Promise<number> {
  let queries = 0;
  const options = (cost: number) => ({ expectedCost: cost, ...(signal && { signal }) });
  let lines = order.lineItems;
  while (lines.pageInfo.hasNextPage) {
    const { data }: { data: { order: { lineItems: Connection<LineNode> } | null } } = await client.query(ORDER_LINES_QUERY, { id: order.id, after: lines.pageInfo.endCursor }, options(ORDER_LINES_COST));
    queries += 1;
    if (!data.order) throw new Error(`order ${order.id} disappeared while it was read`);
    lines = { pageInfo: data.order.lineItems.pageInfo, nodes: [...lines.nodes, ...data.order.lineItems.nodes] };
  }
  order.lineItems = lines;

  // A list without pagination: a full one may have been cut short.
  if (order.refunds.length >= NESTED.refunds || order.transactions.length >= NESTED.transactions) {
    const { data }: { data: { order: { refunds: RefundNode[]; transactions: TransactionNode[] } | null } } = await client.query(ORDER_LISTS_QUERY, { id: order.id }, options(ORDER_LISTS_COST));
    queries += 1;
    if (!data.order) throw new Error(`order ${order.id} disappeared while it was read`);
    if (data.order.refunds.length >= FOLLOW_UP.refunds || data.order.transactions.length >= FOLLOW_UP.transactions) {
      throw new Error(`order ${order.name} has ${FOLLOW_UP.refunds} or more refunds or ${FOLLOW_UP.transactions} or more transactions: more than the sync reads`);
    }
    order.refunds = data.order.refunds;
    order.transactions = data.order.transactions;
  }

  for (const refund of order.refunds) {
    let refundLines = refund.refundLineItems;
    while (refundLines.pageInfo.hasNextPage) {
      const { data }: { data: { refund: { refundLineItems: Connection<RefundLineNode> } | null } } = await client.query(
        REFUND_LINES_QUERY,
        { id: refund.id, after: refundLines.pageInfo.endCursor },
        options(REFUND_LINES_COST),
      );
      queries += 1;
      if (!data.refund) throw new Error(`refund ${refund.id} disappeared while it was read`);
      refundLines = { pageInfo: data.refund.refundLineItems.pageInfo, nodes: [...refundLines.nodes, ...data.refund.refundLineItems.nodes] };
    }
    refund.refundLineItems = refundLines;
    let shipping = refund.refundShippingLines;
    while (shipping.pageInfo.hasNextPage) {
      const { data }: { data: { refund: { refundShippingLines: Connection<RefundShippingLineNode> } | null } } = await client.query(
        REFUND_SHIPPING_QUERY,
        { id: refund.id, after: shipping.pageInfo.endCursor },
        options(REFUND_SHIPPING_QUERY_COST),
      );
      queries += 1;
      if (!data.refund) throw new Error(`refund ${refund.id} disappeared while it was read`);
      shipping = { pageInfo: data.refund.refundShippingLines.pageInfo, nodes: [...shipping.nodes, ...data.refund.refundShippingLines.nodes] };
    }
    refund.refundShippingLines = shipping;
  }
  return queries;
}
