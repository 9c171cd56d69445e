import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Recorder, readBody, sendJson, startFake } from './http';
import type { LoopbackServer } from './http';

/**
 * Sentry's ingestion endpoint (POST /api/<project>/envelope/), enough for @sentry/node to
 * deliver to: each envelope is split into its items, and error events are kept whole
 * for a test to read.
 */

export interface ReceivedEnvelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
  /** The envelope as it arrived, to search for what must not be in it. */
  raw: string;
}

export class FakeSentry {
  readonly url: string;
  private readonly server: LoopbackServer;
  private readonly recorder = new Recorder<ReceivedEnvelope>();

  private constructor(server: LoopbackServer) {
    this.server = server;
    this.url = server.url;
  }

  static start(): Promise<FakeSentry> {
    return startFake({}, (server) => new FakeSentry(server), (fake, req, res) => fake.handle(req, res));
  }

  /** A DSN that sends project 1's events here. */
  get dsn(): string {
    const url = new URL(this.url);
    url.username = 'publickey';
    url.pathname = '/1';
    return url.toString();
  }

  get envelopes(): readonly ReceivedEnvelope[] {
    return this.recorder.all;
  }

  /** The first error event that matches, as the SDK sent it. */
  async waitForEvent(predicate: (event: Record<string, unknown>) => boolean = () => true, timeoutMs = 5000): Promise<{ event: Record<string, unknown>; raw: string }> {
    const isMatch = (envelope: ReceivedEnvelope) =>
      envelope.items.some((item) => item.header.type === 'event' && predicate(item.payload as Record<string, unknown>));
    const envelope = await this.recorder.waitFor(isMatch, timeoutMs, (all) => `${all.length} envelope(s) received`);
    const item = envelope.items.find((i) => i.header.type === 'event' && predicate(i.payload as Record<string, unknown>))!;
    return { event: item.payload as Record<string, unknown>, raw: envelope.raw };
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || !/^\/api\/\d+\/envelope\/?$/.test((req.url ?? '').split('?')[0]!)) return sendJson(res, 404, {});
    let body = await readBody(req);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const raw = body.toString('utf8');
    // Newline-delimited: the envelope header, then a header and a payload line per item.
    const [first, ...rest] = raw.split('\n');
    const items: ReceivedEnvelope['items'] = [];
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const header = JSON.parse(rest[i]!) as Record<string, unknown>;
      const line = rest[i + 1]!;
      items.push({ header, payload: header.type === 'event' ? (JSON.parse(line) as unknown) : line });
    }
    this.recorder.push({ header: JSON.parse(first!) as Record<string, unknown>, items, raw });
    sendJson(res, 200, {});
  }
}
