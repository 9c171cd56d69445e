import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { withDeadline } from './lifecycle';

export interface GaugeSample<L extends string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

export interface ScrapedGaugeOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Every series of the gauge as it stands now. */
  read: () => Promise<GaugeSample<L>[]>;
  /** How long a scrape waits for `read` (default 1 s). */
  timeoutMs?: number;
}

/**
 * A gauge read from where the truth is (Redis, PostgreSQL) at each scrape rather than
 * kept up to date by the code. A read that fails or overruns its time leaves the gauge
 * without series for that scrape — absent rather than stale — and never holds up or
 * fails the rest of /metrics while a dependency is down.
 */
export function scrapedGauge<L extends string>(registry: Registry, options: ScrapedGaugeOptions<L>): Gauge<L> {
  return new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      const samples = await withDeadline(options.read(), options.timeoutMs ?? 1000).catch(() => 'timeout' as const);
      this.reset();
      if (samples === 'timeout') return;
      for (const sample of samples) this.set(sample.labels, sample.value);
    },
  });
}
