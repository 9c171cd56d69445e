import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { freePort, waitForReady } from '@dealdome/testkit';

export const appDir = path.resolve(__dirname, '..');
export const artifactsDir = path.join(appDir, 'test-artifacts');

/** Debian's Chromium, installed by scripts/ensure-browser.sh; never a browser build a tool downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * A headless Chromium with a profile of its own that nothing else uses, and nothing
 * that would talk to the internet on its own (updates, sync, safe-browsing lists).
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-browser.sh (pnpm test does)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Dashboard {
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** The built dashboard as production runs it (the standalone server's start.mjs), pointed at `apiUrl`. */
export async function startDashboard(apiUrl: string): Promise<Dashboard> {
  const entry = path.join(appDir, '.next', 'standalone', 'apps', 'dashboard', 'start.mjs');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: the test command builds it first (node scripts/build.mjs)`);
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', DASHBOARD_API_BASE_URL: apiUrl, DASHBOARD_PORT: String(port), HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForReady(`${url}/readyz`, 30_000),
      exited.then((code) => {
        throw new Error(`the dashboard exited with ${code} before it was ready\n${output}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}
