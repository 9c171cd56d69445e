import { z } from 'zod';
import { adPlatforms } from '../ad-spend';
import type { AdSpendEntry, AdSpendImportResult } from '../ad-spend';
import type { DailyFinancialsRecord } from '../daily-financials';
import type { FixedCost } from '../fixed-costs';
import type { FxRate } from '../fx-rates';
import type { ProductPerformanceRow } from '../product-performance';
import { productStatuses } from '../products';
import type { Product, ProductCost } from '../products';
import type { Setting } from '../settings';
import type { Store } from '../stores';
import { currencyOutput, dateOutput, dateTimeOutput, decimalOutput, idOutput, listOutput, money2Output, monthOutput, pageOutput, problemOutput } from './common';
import type { Wire } from './common';

export const storeOutput = z
  .object({
    id: idOutput,
    name: z.string(),
    shopDomain: z.string().nullable().meta({ example: 'nordic-home.myshopify.com' }),
    currency: currencyOutput,
    timezone: z.string().meta({ description: 'IANA time zone', example: 'Europe/Amsterdam' }),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'Store' }) satisfies z.ZodType<Wire<Store>>;
export const storePageOutput = pageOutput(storeOutput, 'StorePage');

export const productOutput = z
  .object({
    id: idOutput,
    storeId: idOutput,
    sku: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    costPrice: decimalOutput.meta({ description: 'The unit cost in effect today' }),
    currency: currencyOutput,
    status: z.enum(productStatuses),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'Product' }) satisfies z.ZodType<Wire<Product>>;
export const productPageOutput = pageOutput(productOutput, 'ProductPage');

export const productCostOutput = z
  .object({
    costPrice: decimalOutput,
    currency: currencyOutput,
    effectiveFrom: dateOutput,
    createdAt: dateTimeOutput,
  })
  .meta({ id: 'ProductCost', description: 'A unit cost, valid from its day until the next one' }) satisfies z.ZodType<Wire<ProductCost>>;
export const productCostListOutput = listOutput(productCostOutput, 'ProductCostList');

export const productPerformanceOutput = z
  .object({
    productId: idOutput,
    storeId: idOutput,
    sku: z.string(),
    name: z.string(),
    date: dateOutput,
    currency: currencyOutput,
    units: z.number().int(),
    revenue: decimalOutput,
    adSpend: decimalOutput,
    roas: money2Output.nullable().meta({ description: 'revenue ÷ ad spend; null without ad spend' }),
  })
  .meta({ id: 'ProductPerformance' }) satisfies z.ZodType<Wire<ProductPerformanceRow>>;
export const productPerformancePageOutput = pageOutput(productPerformanceOutput, 'ProductPerformancePage');

export const fixedCostOutput = z
  .object({
    id: idOutput,
    storeId: idOutput.nullable().meta({ description: 'null: shared by every store' }),
    name: z.string(),
    category: z.string(),
    amount: decimalOutput.meta({ description: 'Per month' }),
    currency: currencyOutput,
    startMonth: monthOutput,
    endMonth: monthOutput.nullable().meta({ description: 'The last month it runs; null: still running' }),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'FixedCost' }) satisfies z.ZodType<Wire<FixedCost>>;
export const fixedCostPageOutput = pageOutput(fixedCostOutput, 'FixedCostPage');

export const adSpendOutput = z
  .object({
    id: idOutput,
    storeId: idOutput,
    date: dateOutput,
    platform: z.enum(adPlatforms),
    amount: decimalOutput,
    currency: currencyOutput,
    campaign: z.string().nullable(),
    productId: idOutput.nullable(),
    importBatchId: idOutput.nullable().meta({ description: 'The CSV import that created the entry, if any' }),
    createdBy: idOutput.nullable(),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'AdSpendEntry' }) satisfies z.ZodType<Wire<AdSpendEntry>>;
export const adSpendPageOutput = pageOutput(adSpendOutput, 'AdSpendPage');

const totalsPerPlatform = z.partialRecord(z.enum(adPlatforms), decimalOutput);
export const adSpendImportOutput = z
  .object({
    importBatchId: idOutput,
    imported: z.number().int(),
    currency: currencyOutput.nullable().meta({ description: "The file's one currency; null when its rows span currencies" }),
    totalsByPlatform: totalsPerPlatform.nullable().meta({ description: 'Sum per platform in `currency`; null when the file spans currencies' }),
    totalsByCurrency: z.record(z.string(), totalsPerPlatform),
  })
  .meta({ id: 'AdSpendImport' }) satisfies z.ZodType<Wire<AdSpendImportResult>>;

/** The refusal of a CSV import lists the bad rows (spreadsheet numbering: the header is row 1). */
export const adSpendImportProblemOutput = problemOutput
  .extend({
    badRows: z.number().int().optional().meta({ description: 'How many rows have errors' }),
    rows: z
      .array(z.object({ row: z.number().int(), errors: z.record(z.string(), z.array(z.string())) }))
      .optional()
      .meta({ description: 'The bad rows, the first 1000 of them' }),
  })
  .meta({ id: 'AdSpendImportProblem', description: 'Problem details (RFC 9457) of a refused import: nothing was imported' });

export const dailyFinancialsOutput = z
  .object({
    id: idOutput,
    storeId: idOutput,
    date: dateOutput,
    currency: currencyOutput,
    revenue: decimalOutput,
    discounts: decimalOutput,
    refunds: decimalOutput,
    cogs: decimalOutput,
    shippingCosts: decimalOutput,
    transactionFees: decimalOutput,
    orders: z.number().int(),
    units: z.number().int(),
    source: z.enum(['manual', 'shopify']),
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'DailyFinancials', description: "A store's figures of one day, in the store's currency" }) satisfies z.ZodType<
  Wire<DailyFinancialsRecord>
>;
export const dailyFinancialsPageOutput = pageOutput(dailyFinancialsOutput, 'DailyFinancialsPage');

export const fxRateOutput = z
  .object({
    date: dateOutput,
    currency: currencyOutput.meta({ description: 'The currency converted from' }),
    baseCurrency: currencyOutput.meta({ description: 'The reporting currency converted into' }),
    rate: decimalOutput.meta({ description: 'Units of baseCurrency per 1 unit of currency', example: '0.9215' }),
    source: z.string().meta({ description: '"manual" for rates set through the API' }),
  })
  .meta({ id: 'FxRate' }) satisfies z.ZodType<Wire<FxRate>>;
export const fxRatePageOutput = pageOutput(fxRateOutput, 'FxRatePage');

export const settingOutput = z
  .object({
    key: z.string(),
    value: z.unknown().meta({ description: 'Any JSON value; a secret reads back masked' }),
    secret: z.boolean(),
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'Setting' }) satisfies z.ZodType<Wire<Setting>>;
export const settingListOutput = listOutput(settingOutput, 'SettingList');
