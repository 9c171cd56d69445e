import Decimal from 'decimal.js';
import type { BrowserContext, Page } from 'playwright-core';
import { createUser, seedDemoData } from '@dealdome/domain';
import { platformServiceEnv, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import { addDays, yesterday } from '../src/lib/dates';
import { formatMoney } from '../src/lib/money';
import type { PnlReport, Store } from '../src/lib/types';
import { launchBrowser, screenshotPath, startDashboard } from './browser';
import type { Dashboard } from './browser';

/**
 * The dashboard as a person uses it: the built Next server in production mode, in front
 * of the real finance-api process on a database with the demo data, driven through
 * Debian's Chromium. Every figure on screen is checked against the API's own answer.
 */
describe('the dashboard in a browser, over the real finance-api', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  let api: ServiceProcess;
  let dashboard: Dashboard;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  const people: Record<'admin' | 'viewer', { email: string; password: string }> = {
    admin: { email: 'admin@dashboard.test', password: '' },
    viewer: { email: 'viewer@dashboard.test', password: '' },
  };
  let adminToken: string;

  beforeAll(async () => {
    const db = database.handle.db;
    await seedDemoData(db, { stores: 3, days: 75 });
    for (const role of ['admin', 'viewer'] as const) {
      people[role].password = (await createUser(db, { email: people[role].email, displayName: `Test ${role}`, role })).password;
    }
    api = await startServiceProcess(
      'finance-api',
      {
        ...platformServiceEnv(database, redis),
        FINANCE_API_PORT: '0',
        JWT_SECRET: 'dashboard-test-secret-of-at-least-32-characters',
        SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      },
      { readyTimeoutMs: 60_000 },
    );
    dashboard = await startDashboard(api.url);
    adminToken = (await apiCall<{ accessToken: string }>('POST', '/v1/auth/login', undefined, people.admin)).accessToken;
    browser = await launchBrowser();
    context = browser.context;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    const code = await dashboard?.stop();
    await api?.signal('SIGTERM');
    // A graceful stop, not a crash on the way out.
    expect(code).toBe(0);
  }, 30_000);

  async function apiCall<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  const pnl = (query: Record<string, string>) => apiCall<PnlReport>('GET', `/v1/reports/pnl?${new URLSearchParams(query).toString()}`, adminToken);

  async function signIn(page: Page, who: 'admin' | 'viewer'): Promise<void> {
    await page.goto(`${dashboard.url}/`);
    // Not signed in: the dashboard sends you to its login page.
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(people[who].email);
    await page.getByLabel('Password').fill(people[who].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByTestId('role').filter({ hasText: who }).waitFor();
  }

  /** Waits until the headline figure shows exactly the API's value, formatted from that same string. */
  async function expectFigure(page: Page, key: 'netRevenue' | 'netProfit', value: string, currency: string): Promise<void> {
    const figure = page.locator(`[data-testid="figure-${key}"][data-value="${value}"]`);
    await figure.waitFor({ timeout: 15_000 });
    expect(await figure.textContent()).toBe(formatMoney(value, currency));
  }

  test('when a person signs in, then the overview shows the API’s P&L of all stores for the last 30 days', async () => {
    const page = await context.newPage();
    await signIn(page, 'admin');
    const to = yesterday();
    const report = await pnl({ from: addDays(to, -29), to, groupBy: 'day' });
    expect(report.totals.netRevenue).not.toBe('0.00');
    await expectFigure(page, 'netRevenue', report.totals.netRevenue, report.currency);
    await expectFigure(page, 'netProfit', report.totals.netProfit, report.currency);
    expect(await page.getByTestId('figure-orders').textContent()).toBe(new Intl.NumberFormat('en-GB').format(report.totals.orders));
    await page.locator('figure[aria-label="Net revenue and net profit"]').getByRole('application').waitFor();
    await page.screenshot({ path: screenshotPath('overview.png'), fullPage: true });
    await page.close();
  });

  test('when the store and range change, then the figures change to the API’s for that store and range', async () => {
    const page = await context.newPage();
    await signIn(page, 'admin');
    const stores = (await apiCall<{ data: Store[] }>('GET', '/v1/stores', adminToken)).data;
    const usd = stores.find((s) => s.currency === 'USD')!;
    const to = yesterday();
    const all = await pnl({ from: addDays(to, -29), to, groupBy: 'day' });
    await expectFigure(page, 'netRevenue', all.totals.netRevenue, all.currency);

    await page.getByLabel('Store').selectOption(usd.id);
    await page.getByRole('button', { name: '7d' }).click();
    const week = await pnl({ from: addDays(to, -6), to, groupBy: 'day', storeId: usd.id });
    expect(week.currency).toBe('USD');
    expect(week.totals.netRevenue).not.toBe(all.totals.netRevenue);
    await expectFigure(page, 'netRevenue', week.totals.netRevenue, 'USD');
    await expectFigure(page, 'netProfit', week.totals.netProfit, 'USD');

    // The change against the previous 7 days, computed from the API's two answers.
    const before = await pnl({ from: addDays(to, -13), to: addDays(to, -7), groupBy: 'month', storeId: usd.id });
    const change = new Decimal(week.totals.netRevenue).minus(before.totals.netRevenue).dividedBy(new Decimal(before.totals.netRevenue).abs()).times(100);
    await page.getByTestId('change-netRevenue').filter({ hasText: `${change.toDecimalPlaces(1, Decimal.ROUND_HALF_UP).toFixed(1)} %` }).waitFor();
    await page.close();
  });

  test('when a member adds ad spend, then the overview’s net profit moves by exactly that amount', async () => {
    const page = await context.newPage();
    await signIn(page, 'admin');
    const stores = (await apiCall<{ data: Store[] }>('GET', '/v1/stores', adminToken)).data;
    const store = stores.find((s) => s.currency === 'EUR')!;
    const to = yesterday();
    const query = { from: addDays(to, -29), to, groupBy: 'day', storeId: store.id };
    const before = await pnl(query);

    await page.getByRole('link', { name: 'Ad spend' }).click();
    await page.locator('select[name="store"]').selectOption(store.id);
    const form = page.getByRole('form', { name: 'Add ad spend' });
    await form.getByLabel('Platform').selectOption('snapchat');
    await form.getByLabel(/Amount/).fill('123.45');
    await form.getByLabel('Campaign').fill('dashboard test');
    await form.getByRole('button', { name: 'Add ad spend' }).click();
    await page.getByRole('status').filter({ hasText: `Added ${formatMoney('123.45', 'EUR')} of snapchat on ${to}.` }).waitFor();
    await page.getByTestId('ad-spend-table').getByText('dashboard test').waitFor();

    const after = await pnl(query);
    expect(new Decimal(before.totals.netProfit).minus(after.totals.netProfit).toFixed(2)).toBe('123.45');
    expect(after.totals.adSpendByPlatform.snapchat).toBe(new Decimal(before.totals.adSpendByPlatform.snapchat ?? '0').plus('123.45').toFixed(2));
    await page.getByRole('link', { name: 'Overview' }).click();
    await expectFigure(page, 'netProfit', after.totals.netProfit, 'EUR');
    await page.close();
  });

  test('when a CSV import has bad rows, then each bad row is listed on the page and nothing is imported', async () => {
    const page = await context.newPage();
    await signIn(page, 'admin');
    await page.getByRole('link', { name: 'Ad spend' }).click();
    const form = page.getByRole('form', { name: 'Import ad spend CSV' });
    const csv = 'date,platform,amount,currency\n2026-01-05,meta,10.00,EUR\nnot-a-date,meta,5.00,EUR\n2026-01-06,myspace,1.00,EUR\n';
    await form.getByLabel('CSV file').setInputFiles({ name: 'spend.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await form.getByRole('button', { name: 'Import CSV' }).click();
    const report = page.getByTestId('import-errors');
    await report.waitFor();
    const rows = await report.locator('tbody tr td:first-child').allTextContents();
    expect(rows).toEqual(['3', '4']);
    expect(await report.textContent()).toMatch(/date/);
    expect(await report.textContent()).toMatch(/platform/);
    await page.close();
  });

  test('when a viewer signs in, then no page offers to add or change anything, where an admin is offered it', async () => {
    const admin = await context.newPage();
    await signIn(admin, 'admin');
    for (const [link, button] of [
      ['Ad spend', 'Add ad spend'],
      ['Fixed costs', 'Add fixed cost'],
    ] as const) {
      await admin.getByRole('link', { name: link }).click();
      await admin.getByRole('button', { name: button }).waitFor();
    }
    await admin.close();

    // A fresh browser profile: the admin's session stays in the admin's tab.
    const viewerBrowser = await launchBrowser();
    try {
      const page = await viewerBrowser.context.newPage();
      await signIn(page, 'viewer');
      expect(await page.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Stores & FX' }).count()).toBe(0);
      for (const [link, table] of [
        ['Ad spend', 'ad-spend-table'],
        ['Fixed costs', 'fixed-costs-table'],
      ] as const) {
        await page.getByRole('link', { name: link }).click();
        await page.getByTestId(table).waitFor();
        expect(await page.getByRole('button', { name: /^(Add|Import|Edit|End)/ }).count()).toBe(0);
        expect(await page.locator('form').count()).toBe(0);
      }
      await page.getByRole('link', { name: 'Products' }).click();
      await page.getByTestId('products-table').locator('tbody tr').first().click();
      await page.getByRole('heading', { name: 'Cost history' }).waitFor();
      expect(await page.getByRole('button', { name: 'Add cost' }).count()).toBe(0);
    } finally {
      await viewerBrowser.close();
    }
  });

  test('when the products page is sorted, then the table follows the API’s figures, and a product shows its trend', async () => {
    const page = await context.newPage();
    await signIn(page, 'admin');
    const to = yesterday();
    const report = await apiCall<{ rows: { name: string; sku: string; adSpend: string }[] }>(
      'GET',
      `/v1/reports/products?${new URLSearchParams({ from: addDays(to, -29), to, limit: '200' }).toString()}`,
      adminToken,
    );
    expect(report.rows.length).toBeGreaterThan(1);
    await page.getByRole('link', { name: 'Products' }).click();
    const table = page.getByTestId('products-table');
    await table.waitFor();
    await table.getByRole('button', { name: /Ad spend/ }).click();
    const bySpend = [...report.rows].sort((a, b) => new Decimal(b.adSpend).comparedTo(a.adSpend));
    const firstColumn = async () => (await table.locator('tbody tr td:first-child').allTextContents()).map((t) => t.split(' ').at(-1));
    expect(await firstColumn()).toEqual(bySpend.map((r) => r.sku));
    await table.getByRole('button', { name: /Ad spend/ }).click();
    expect(await firstColumn()).toEqual(bySpend.map((r) => r.sku).reverse());
    await table.locator('tbody tr').first().click();
    await page.getByRole('heading', { name: 'Cost history' }).waitFor();
    await page.locator('figure[aria-label^="Trend of"]').getByRole('application').waitFor();
    await page.screenshot({ path: screenshotPath('products.png'), fullPage: true });

    // The same page on a phone: nothing wider than the screen but the scrolling table.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('figure-netRevenue').waitFor();
    // (A string, evaluated in the page: this file is compiled without the DOM's types.)
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('overview-phone.png'), fullPage: true });
    await page.close();
  });
});
