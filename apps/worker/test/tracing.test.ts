import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '@cap/observability';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';

/**
 * OpenTelemetry traces with an in-memory exporter: the ingress and the worker run in this
 * process (the stack), so every span of a delivery lands in one exporter.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let s: Stack;

beforeAll(async () => {
  // Before the stack starts, so its queues and workers are created with BullMQ's hook.
  tracing = await startTracing({ serviceName: 'cap-test', spanProcessor: new SimpleSpanProcessor(exporter) });
  s = await startStack({ sizes: { users: 2, projects: 2, tasksPerProject: 1, tags: 2, clients: 1, entries: 10 } });
  await s.startWorker();
  await s.installAndWait();
  await waitFor(async () => (await s.latestRun())?.status === 'COMPLETED', {
    timeoutMs: 30_000,
    message: 'the bootstrap completed',
  });
});
afterAll(async () => {
  await s?.close();
  await tracing?.shutdown();
});

const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The span's ancestors within the finished spans, nearest first. */
function ancestors(span: ReadableSpan, all: readonly ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(all.map((x) => [x.spanContext().spanId, x]));
  const out: ReadableSpan[] = [];
  for (let p = parentOf(span); p && byId.has(p); p = parentOf(byId.get(p)!)) out.push(byId.get(p)!);
  return out;
}

/** Every attribute value of every span, as one string. */
const attributeText = (spans: readonly ReadableSpan[]) => JSON.stringify(spans.map((x) => x.attributes));

/** The installation's tokens, which no span may carry. */
function secrets(): string[] {
  const installation = s.sim.installation();
  return [installation.installationToken, ...Object.values(installation.webhookTokens)].filter(
    (t): t is string => typeof t === 'string',
  );
}

describe('traces', () => {
  it('the install: each Clockify API call is a client span with its limiter wait, in the trace of the bootstrap job', () => {
    const spans = exporter.getFinishedSpans();
    const calls = spans.filter((x) => x.name.startsWith('clockify GET '));
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) {
      expect(call.attributes['http.response.status_code']).toBe(200);
      expect(typeof call.attributes['cap.limiter.wait_ms']).toBe('number');
      expect(call.attributes['url.template']).toMatch(/^\/(v1|addon)\/workspaces\/\{workspaceId\}/);
    }
    // The bootstrap's calls descend from its job's consumer span, and through the jobs that
    // queued it (BullMQ's hook) from the enqueue of the INSTALLED call.
    const chains = calls.map((c) => ancestors(c, spans).map((x) => x.name));
    const bootstrap = chains.filter((chain) => chain.some((n) => n.startsWith('process bootstrap')));
    expect(bootstrap.length, chains.map((c) => c.join(' < ')).join('\n')).toBeGreaterThan(0);
    for (const chain of bootstrap) expect(chain.at(-1)).toBe('add lifecycle.lifecycle.installed');
    const text = attributeText(spans);
    for (const secret of secrets()) expect(text).not.toContain(secret);
  });

  it('one webhook: ingress request → enqueue → job → commit form one trace, with no token or body', async () => {
    exporter.reset();
    const delivery = await s.sim.trigger('NEW_TAG');
    expect(delivery.status).toBe(200);
    const commit = await waitFor(
      () => exporter.getFinishedSpans().find((x) => x.name.startsWith('commit webhook deliver')),
      { timeoutMs: 20_000, message: 'the commit span' },
    );
    const spans = exporter.getFinishedSpans();
    const receive = spans.find((x) => x.name === 'webhook receive');
    expect(receive?.attributes).toMatchObject({
      'clockify.event': 'NEW_TAG',
      'cap.webhook.outcome': 'accepted',
      'http.response.status_code': 200,
      'http.route': '/webhooks/:event',
    });
    const trace = spans.filter((x) => traceOf(x) === traceOf(receive!));
    const names = trace.map((x) => x.name);
    expect(names, names.join(', ')).toEqual(
      expect.arrayContaining([
        'webhook receive',
        expect.stringMatching(/^add webhooks\.webhook\.process/),
        expect.stringMatching(/^process webhooks/),
      ]),
    );
    expect(traceOf(commit)).toBe(traceOf(receive!));
    // The commit descends from the request, through the job.
    const chain = ancestors(commit, spans).map((x) => x.name);
    expect(chain.at(-1), chain.join(' < ')).toBe('webhook receive');

    const text = attributeText(exporter.getFinishedSpans());
    for (const secret of secrets()) expect(text).not.toContain(secret);
    // No body either: the tag's name it carries is in no attribute.
    const body = JSON.parse(delivery.sentBody) as { id: string; name: string };
    expect(text).not.toContain(body.name);
  });
});
