import { INVALID_SPAN_CONTEXT, SpanStatusCode, context, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry traces, off by default. The standard variables turn them on
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
 * `OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep them
 * off) and configure the OTLP/HTTP exporter as the OTel SDK documents (headers, timeout,
 * `OTEL_SERVICE_NAME`). The SDK is loaded only then; with tracing off every span below is the
 * API's no-op span and costs a function call.
 *
 * No span carries a token or a body: the attributes set in this repository are methods, route
 * templates, event names, ids, statuses and counts.
 */
export { SpanKind } from '@opentelemetry/api';
export type { Span } from '@opentelemetry/api';

const TRACER = 'clockify-addon-platform';
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
let active = false;

/** Whether the environment asks for traces (the OTel SDK's own variables). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || exporter === 'otlp');
}

/** True once {@link startTracing} registered a tracer provider (queues and workers then trace too). */
export function tracingEnabled(): boolean {
  return active;
}

export interface Tracing {
  /** Flushes the spans still buffered and unregisters the provider. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process when the environment asks for it (or when a span processor is
 * given, as tests do); undefined when tracing stays off.
 */
export async function startTracing(opts: {
  readonly serviceName: string;
  readonly spanProcessor?: SpanProcessor;
  readonly env?: NodeJS.ProcessEnv;
}): Promise<Tracing | undefined> {
  const env = opts.env ?? process.env;
  if (!opts.spanProcessor && !tracingRequested(env)) return undefined;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  let processor = opts.spanProcessor;
  if (!processor) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new BatchSpanProcessor(new OTLPTraceExporter());
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || opts.serviceName }),
    spanProcessors: [processor],
  });
  // Also installs the AsyncLocalStorage context manager, so a span started in a request or a job
  // is the parent of what that request or job does.
  provider.register();
  active = true;
  return {
    async shutdown() {
      active = false;
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/**
 * Runs `fn` inside a new active span (a child of the active one) and ends it when `fn` settles,
 * recording a thrown error as the span's status. With tracing off it runs `fn` with a no-op span.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!active) return fn(NO_SPAN);
  return trace.getTracer(TRACER).startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}
