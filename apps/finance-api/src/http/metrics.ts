import type { RequestHandler } from 'express';
import { Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

type Labels = 'method' | 'route' | 'status';

/**
 * http_request_duration_seconds{method, route, status}: every answered request by the
 * route's pattern (/v1/stores/:id), never the path itself, whose ids would make a series
 * per record. Requests no route answered (a 404, the docs' and the queue board's static
 * files) share route="(none)".
 */
export function httpMetrics(registry: Registry): RequestHandler {
  const histogram =
    (registry.getSingleMetric('http_request_duration_seconds') as Histogram<Labels> | undefined) ??
    new Histogram<Labels>({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : '(none)';
      histogram.observe({ method: req.method, route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    next();
  };
}
