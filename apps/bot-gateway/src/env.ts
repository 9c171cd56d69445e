import { z } from 'zod';
import { baseEnvSchema, envInt, envPort, envUrl } from '@dealdome/config';
import { outboundEnvShape } from './outbound/config';

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());

export const envSchema = baseEnvSchema
  .extend({
    /** /healthz, /readyz and /metrics; in webhook mode also the webhook's path. */
    BOT_GATEWAY_PORT: envPort(9401),
    /** Without it Telegram intake is off (unless TELEGRAM_API_BASE_URL points at a local emulator). */
    TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'expected a bot token such as "123456:ABC-DEF…"')),
    /** The Bot API root, for a local Bot API server or the emulator. */
    TELEGRAM_API_BASE_URL: optional(envUrl(['http', 'https'])),
    /** Public HTTPS address Telegram posts updates to; set it to switch from long polling to a webhook. */
    TELEGRAM_WEBHOOK_URL: optional(envUrl(['http', 'https'])),
    /** Telegram's secret_token: 1–256 of A-Z a-z 0-9 _ -; we ask for at least 16. */
    TELEGRAM_WEBHOOK_SECRET: optional(
      z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected 16 to 256 characters from A-Z, a-z, 0-9, "_" and "-"'),
    ),
    /** How long one getUpdates waits for updates, in seconds. */
    TELEGRAM_POLL_TIMEOUT_SECONDS: envInt(30, 0),
    /** Only its presence is read here: without it the agents are offline and the bot says so. */
    ANTHROPIC_API_KEY: optional(z.string().min(1)),
    ...outboundEnvShape,
  })
  .superRefine((env, ctx) => {
    if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'is required when TELEGRAM_WEBHOOK_URL is set' });
    }
    if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_BOT_TOKEN && !env.TELEGRAM_API_BASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_BOT_TOKEN'], message: 'is required when TELEGRAM_WEBHOOK_URL is set' });
    }
    if (env.TELEGRAM_POLL_TIMEOUT_SECONDS > 50) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_POLL_TIMEOUT_SECONDS'], message: 'must be at most 50' });
    }
  });

export type Env = z.infer<typeof envSchema>;
