// The API's answers, typed from the very schemas finance-api documents them with
// (packages/domain/src/schemas): the dashboard cannot drift from the wire format.
import type { z } from 'zod';
import type {
  adSpendImportOutput,
  adSpendImportProblemOutput,
  adSpendOutput,
  apiTokenOutput,
  createdApiTokenOutput,
  fixedCostOutput,
  fxRateOutput,
  meOutput,
  pnlReportOutput,
  productCostOutput,
  productOutput,
  productPerformanceOutput,
  productReportSchema,
  storeOutput,
  tokenPairOutput,
} from '@dealdome/domain';

export type TokenPair = z.output<typeof tokenPairOutput>;
export type Me = z.output<typeof meOutput>;
export type Store = z.output<typeof storeOutput>;
export type Product = z.output<typeof productOutput>;
export type ProductCost = z.output<typeof productCostOutput>;
export type ProductPerformance = z.output<typeof productPerformanceOutput>;
export type PnlReport = z.output<typeof pnlReportOutput>;
export type PnlFigures = PnlReport['totals'];
export type ProductReport = z.output<typeof productReportSchema>;
export type AdSpendEntry = z.output<typeof adSpendOutput>;
export type AdSpendImport = z.output<typeof adSpendImportOutput>;
export type AdSpendImportProblem = z.output<typeof adSpendImportProblemOutput>;
export type FixedCost = z.output<typeof fixedCostOutput>;
export type FxRate = z.output<typeof fxRateOutput>;
export type ApiToken = z.output<typeof apiTokenOutput>;
export type CreatedApiToken = z.output<typeof createdApiTokenOutput>;
export type Role = Extract<Me, { kind: 'user' }>['role'];

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const AD_PLATFORMS = ['meta', 'tiktok', 'google', 'snapchat', 'pinterest', 'other'] as const;
export type AdPlatform = (typeof AD_PLATFORMS)[number];
