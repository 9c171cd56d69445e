export * from './client';
export * from './credentials';
export { ordersPageCost, ordersPageSize } from './orders';
export { ShopifyCurrencyMismatchError } from './records';
export { rebuildShopifyDays } from './days';
export * from './sync';
export * from './webhooks';
