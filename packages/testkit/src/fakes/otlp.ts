import type { IncomingMessage, ServerResponse } from 'node:http';
import protobuf from 'protobufjs';
import { Recorder, readBody, sendJson, startFake } from './http';
import type { LoopbackServer } from './http';

/**
 * An OpenTelemetry collector's OTLP/HTTP trace receiver (POST /v1/traces, protobuf, as
 * the services export): it decodes each export into spans a test can wait for. The
 * schema below is the part of opentelemetry-proto's ExportTraceServiceRequest read here,
 * field numbers as in the specification; protobuf skips the fields it leaves out.
 */
const schema = protobuf.parse(
  `syntax = "proto3";
  message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
  message KeyValue { string key = 1; AnyValue value = 2; }
  message Resource { repeated KeyValue attributes = 1; }
  message InstrumentationScope { string name = 1; string version = 2; }
  message Span {
    bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
    repeated KeyValue attributes = 9;
  }
  message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
  message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
  message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }`,
  { keepCase: true },
).root.lookupType('ExportTraceServiceRequest');

/** OTLP's SpanKind numbers. */
export const OtlpSpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

type Attributes = Record<string, string | number | boolean>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  /** The instrumentation that made it: @opentelemetry/instrumentation-pg, @dealdome/queues… */
  scope: string;
  attributes: Attributes;
  /** service.name and the rest of the exporting process's resource. */
  resource: Attributes;
}

interface DecodedValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string;
  double_value?: number;
}
interface DecodedRequest {
  resource_spans?: {
    resource?: { attributes?: { key: string; value?: DecodedValue }[] };
    scope_spans?: {
      scope?: { name?: string };
      spans?: { trace_id: string; span_id: string; parent_span_id: string; name: string; kind: number; attributes?: { key: string; value?: DecodedValue }[] }[];
    }[];
  }[];
}

function attributes(list: { key: string; value?: DecodedValue }[] = []): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list) {
    const v = value?.string_value ?? value?.bool_value ?? (value?.int_value !== undefined ? Number(value.int_value) : value?.double_value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export class FakeOtlpCollector {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  private readonly server: LoopbackServer;
  private readonly recorder = new Recorder<ReceivedSpan>();

  private constructor(server: LoopbackServer) {
    this.server = server;
    this.url = server.url;
  }

  static start(): Promise<FakeOtlpCollector> {
    return startFake({}, (server) => new FakeOtlpCollector(server), (fake, req, res) => fake.handle(req, res));
  }

  get spans(): readonly ReceivedSpan[] {
    return this.recorder.all;
  }

  waitForSpan(predicate: (span: ReceivedSpan) => boolean, timeoutMs = 10_000): Promise<ReceivedSpan> {
    return this.recorder.waitFor(predicate, timeoutMs, (all) => `${all.length} span(s) received: ${all.map((s) => s.name).join(', ')}`);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/traces') return sendJson(res, 404, { error: 'only POST /v1/traces' });
    if (req.headers['content-type'] !== 'application/x-protobuf') return sendJson(res, 415, { error: 'expected application/x-protobuf' });
    const decoded = schema.toObject(schema.decode(await readBody(req)), { bytes: String, longs: String, defaults: true }) as DecodedRequest;
    const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');
    for (const resourceSpans of decoded.resource_spans ?? []) {
      const resource = attributes(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scope_spans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.recorder.push({
            traceId: hex(span.trace_id),
            spanId: hex(span.span_id),
            parentSpanId: hex(span.parent_span_id),
            name: span.name,
            kind: span.kind,
            scope: scopeSpans.scope?.name ?? '',
            attributes: attributes(span.attributes),
            resource,
          });
        }
      }
    }
    // An empty ExportTraceServiceResponse: everything accepted.
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
    res.end();
  }
}
