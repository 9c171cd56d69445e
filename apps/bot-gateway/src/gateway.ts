import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@dealdome/config';
import type { Platform } from '@dealdome/queues';
import { buildCommandRegistry } from './commands';
import type { GatewayDeps } from './context';
import type { Env } from './env';
import { PollingIntake } from './polling';
import { UpdateProcessor } from './processor';
import { Router } from './router';
import { DEFAULT_TELEGRAM_API_ROOT, TelegramClient } from './telegram';
import type { BotIdentity } from './telegram';
import { createTelegramClient, outboundLimitsFromEnv, startOutboundWorker } from './outbound';
import { createWebhookApp } from './webhook';

/** The stand-in token used against a local emulator when no real token is set (the emulator takes any). */
export const EMULATOR_TOKEN = '100000001:local-emulator';
const SWEEP_EVERY_MS = 60_000;

export type TelegramSetup =
  | { mode: 'off' }
  | { mode: 'polling' | 'webhook'; token: string; apiRoot: string; webhook?: { url: string; path: string; secret: string } };

/** Which intake the environment asks for. Without a token the gateway runs with intake off, or against an emulator. */
export function telegramSetup(env: Env, logger: Logger): TelegramSetup {
  const apiRoot = env.TELEGRAM_API_BASE_URL ?? DEFAULT_TELEGRAM_API_ROOT;
  let token = env.TELEGRAM_BOT_TOKEN;
  if (!token) {
    if (!env.TELEGRAM_API_BASE_URL) {
      logger.warn('TELEGRAM_BOT_TOKEN is not set: Telegram intake is off (set it, or TELEGRAM_API_BASE_URL for a local emulator)');
      return { mode: 'off' };
    }
    logger.warn({ apiRoot }, 'TELEGRAM_BOT_TOKEN is not set: talking to the Bot API at TELEGRAM_API_BASE_URL (a local emulator) with a stand-in token');
    token = EMULATOR_TOKEN;
  }
  if (env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_WEBHOOK_SECRET) {
    const path = new URL(env.TELEGRAM_WEBHOOK_URL).pathname;
    return { mode: 'webhook', token, apiRoot, webhook: { url: env.TELEGRAM_WEBHOOK_URL, path, secret: env.TELEGRAM_WEBHOOK_SECRET } };
  }
  return { mode: 'polling', token, apiRoot };
}

/** getMe once, retried with a pause until it answers; every handler waits for it. */
function botIdentity(telegram: TelegramClient, logger: Logger, signal: AbortSignal): () => Promise<BotIdentity> {
  let identity: Promise<BotIdentity> | undefined;
  const ask = async (): Promise<BotIdentity> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await telegram.identity(signal);
      } catch (err) {
        if (signal.aborted) throw err;
        const pauseMs = Math.min(30_000, 500 * 2 ** attempt);
        logger.warn({ err: { message: (err as Error).message }, pauseMs }, 'getMe failed; asking again');
        await sleep(pauseMs, undefined, { signal });
      }
    }
  };
  return () => (identity ??= ask());
}

export interface Gateway {
  app?: http.RequestListener;
  consumers: { name: string; close(deadlineMs: number): Promise<void> }[];
}

/** Telegram intake wired onto the platform: polling or the webhook, the processor and its sweep. */
export function createGateway(platform: Platform, env: Env, setup: TelegramSetup): Gateway {
  const logger = platform.logger;
  const agentsOnline = env.ANTHROPIC_API_KEY !== undefined;
  if (!agentsOnline) logger.warn('ANTHROPIC_API_KEY is not set: the agents are offline; commands work and free text gets a notice');
  if (setup.mode === 'off') return { consumers: [] };

  const stopping = new AbortController();
  const telegram = new TelegramClient(setup.token, setup.apiRoot);
  const deps: GatewayDeps = {
    db: platform.database.db,
    producer: platform.producer,
    redis: platform.redis,
    keyPrefix: env.QUEUE_PREFIX,
    logger,
    telegram,
    bot: botIdentity(telegram, logger, stopping.signal),
    agentsOnline,
  };
  const processor = new UpdateProcessor(deps, new Router(deps, buildCommandRegistry()));
  // The only code that sends: replies and notifications stored by every service.
  const outbound = startOutboundWorker({
    db: platform.database.db,
    connection: platform.redis,
    prefix: env.QUEUE_PREFIX,
    telegram: createTelegramClient({ token: setup.token, apiRoot: setup.apiRoot, timeoutMs: env.TELEGRAM_REQUEST_TIMEOUT_MS }),
    secrets: [setup.token],
    logger,
    registry: platform.registry,
    ...outboundLimitsFromEnv(env),
  });
  const sweeper = setInterval(() => void processor.sweep(), SWEEP_EVERY_MS);
  sweeper.unref();
  void processor.sweep();

  const stopSweeps = async (deadlineMs: number) => {
    stopping.abort();
    clearInterval(sweeper);
    await processor.drain(deadlineMs);
  };

  if (setup.mode === 'polling') {
    const polling = new PollingIntake(deps, processor, env.TELEGRAM_POLL_TIMEOUT_SECONDS);
    polling.start();
    return {
      consumers: [
        {
          name: 'telegram-polling',
          close: async (deadlineMs) => {
            await polling.stop(deadlineMs);
            await stopSweeps(deadlineMs);
          },
        },
        outbound,
      ],
    };
  }

  const webhook = setup.webhook!;
  void (async () => {
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      try {
        const bot = await deps.bot();
        await telegram.useWebhook(webhook.url, webhook.secret);
        logger.info({ bot: bot.username, path: webhook.path }, 'Telegram intake on: webhook registered');
        return;
      } catch (err) {
        const pauseMs = Math.min(60_000, 1000 * 2 ** attempt);
        logger.error({ err: { message: (err as Error).message }, pauseMs }, 'registering the webhook failed; trying again');
        await sleep(pauseMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  })();
  const app = createWebhookApp(deps, processor, webhook.path, webhook.secret);
  return { app, consumers: [{ name: 'telegram-webhook', close: stopSweeps }, outbound] };
}
