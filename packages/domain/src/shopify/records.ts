import { Decimal } from '../values';
import type { MoneyBagNode, OrderNode, ShopMoney } from './orders';

/**
 * A Shopify order as DealDome stores it: shop-currency amounts as exact decimal
 * strings (NUMERIC(18,4)), per line what was sold, discounted, taxed, refunded and
 * returned to stock.
 */

export interface OrderLineRecord {
  shopifyLineId: string;
  shopifyVariantId: string | null;
  sku: string | null;
  title: string;
  quantity: number;
  refundedQuantity: number;
  restockedQuantity: number;
  unitPrice: string;
  totalDiscount: string;
  tax: string;
  /** What the line's refunds gave back, without tax. */
  refundedAmount: string;
}

export interface OrderRecord {
  shopifyOrderId: string;
  name: string;
  processedAt: Date;
  updatedAt: Date;
  cancelledAt: Date | null;
  test: boolean;
  taxesIncluded: boolean;
  currency: string;
  grossSales: string;
  subtotal: string;
  totalDiscounts: string;
  totalShipping: string;
  totalTax: string;
  totalRefunded: string;
  refundedTax: string;
  transactionFees: string;
  /** Fees charged in another currency, not counted (no conversion is guessed). */
  uncountedFees: { amount: string; currency: string }[];
  lines: OrderLineRecord[];
  raw: OrderNode;
}

/** An order in another currency than its store's: the store's figures would mix currencies. */
export class ShopifyCurrencyMismatchError extends Error {
  constructor(
    readonly orderName: string,
    readonly shopCurrency: string,
    readonly storeCurrency: string,
  ) {
    super(`Shopify reports order ${orderName} in ${shopCurrency}, but the store is kept in ${storeCurrency}: set the store's currency to its Shopify shop currency`);
    this.name = 'ShopifyCurrencyMismatchError';
  }
}

const RESTOCKED = new Set(['RETURN', 'CANCEL', 'LEGACY_RESTOCK']);
const money4 = (d: Decimal) => d.toFixed(4);

export function toOrderRecord(order: OrderNode, storeCurrency: string): OrderRecord {
  if (order.currencyCode !== storeCurrency) throw new ShopifyCurrencyMismatchError(order.name, order.currencyCode, storeCurrency);
  const amount = (bag: MoneyBagNode | ShopMoney): Decimal => {
    const money = 'shopMoney' in bag ? bag.shopMoney : bag;
    if (money.currencyCode !== storeCurrency) throw new ShopifyCurrencyMismatchError(order.name, money.currencyCode, storeCurrency);
    return new Decimal(money.amount);
  };
  const total = (values: Decimal[]) => values.reduce((a, b) => a.plus(b), new Decimal(0));

  const lines = new Map(
    order.lineItems.nodes.map((line) => {
      const unitPrice = amount(line.originalUnitPriceSet);
      return [
        line.id,
        {
          line,
          unitPrice,
          discount: total(line.discountAllocations.map((d) => amount(d.allocatedAmountSet))),
          tax: total(line.taxLines.map((t) => amount(t.priceSet))),
          refundedQuantity: 0,
          restockedQuantity: 0,
          refundedAmount: new Decimal(0),
        },
      ];
    }),
  );

  let refundedTax = new Decimal(0);
  for (const refund of order.refunds) {
    for (const shipping of refund.refundShippingLines.nodes) refundedTax = refundedTax.plus(amount(shipping.taxAmountSet));
    for (const refundLine of refund.refundLineItems.nodes) {
      const tax = amount(refundLine.totalTaxSet);
      refundedTax = refundedTax.plus(tax);
      const target = refundLine.lineItem ? lines.get(refundLine.lineItem.id) : undefined;
      if (!target) continue;
      target.refundedQuantity += refundLine.quantity;
      if (RESTOCKED.has(refundLine.restockType)) target.restockedQuantity += refundLine.quantity;
      // With tax-inclusive prices the refunded subtotal holds the tax; without, the tax comes on top.
      const subtotal = amount(refundLine.subtotalSet);
      target.refundedAmount = target.refundedAmount.plus(order.taxesIncluded ? subtotal.minus(tax) : subtotal);
    }
  }

  let fees = new Decimal(0);
  const uncountedFees: { amount: string; currency: string }[] = [];
  for (const transaction of order.transactions) {
    if (transaction.status !== 'SUCCESS') continue;
    for (const fee of transaction.fees) {
      if (fee.amount.currencyCode === storeCurrency) fees = fees.plus(fee.amount.amount);
      else uncountedFees.push({ amount: new Decimal(fee.amount.amount).toFixed(), currency: fee.amount.currencyCode });
    }
  }

  const lineRecords = [...lines.values()].map(({ line, unitPrice, discount, tax, refundedQuantity, restockedQuantity, refundedAmount }) => {
    const refunded = Math.min(refundedQuantity, line.quantity);
    return {
      shopifyLineId: line.id,
      shopifyVariantId: line.variant?.id ?? null,
      sku: line.sku?.trim() || null,
      title: line.name,
      quantity: line.quantity,
      refundedQuantity: refunded,
      restockedQuantity: Math.min(restockedQuantity, refunded),
      unitPrice: money4(unitPrice),
      totalDiscount: money4(discount),
      tax: money4(tax),
      refundedAmount: money4(Decimal.max(refundedAmount, 0)),
    };
  });
  const grossSales = total([...lines.values()].map((l) => l.unitPrice.times(l.line.quantity)));
  const lineDiscounts = total([...lines.values()].map((l) => l.discount));

  return {
    shopifyOrderId: order.id,
    name: order.name,
    processedAt: new Date(order.processedAt),
    updatedAt: new Date(order.updatedAt),
    cancelledAt: order.cancelledAt ? new Date(order.cancelledAt) : null,
    test: order.test,
    taxesIncluded: order.taxesIncluded,
    currency: storeCurrency,
    grossSales: money4(grossSales),
    subtotal: money4(Decimal.max(grossSales.minus(lineDiscounts), 0)),
    totalDiscounts: money4(amount(order.totalDiscountsSet)),
    totalShipping: money4(amount(order.totalShippingPriceSet)),
    totalTax: money4(amount(order.totalTaxSet)),
    totalRefunded: money4(amount(order.totalRefundedSet)),
    refundedTax: money4(refundedTax),
    transactionFees: money4(fees),
    uncountedFees,
    lines: lineRecords,
    raw: order,
  };
}
