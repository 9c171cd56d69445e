export * from './telegram';
export { parseTelegramHtml, TelegramParseError } from './telegram-html';
export type { ParsedHtml, TelegramEntity } from './telegram-html';
export * from './anthropic';
export * from './openai';
export * from './shopify';
export * from './otlp';
export * from './sentry';
