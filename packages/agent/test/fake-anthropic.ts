/**
 * A loopback server speaking the Anthropic Messages wire protocol (JSON and SSE), answering from a
 * script: each request takes the next step (a message with its usage, an error with the API's error
 * body and headers, a cut stream, a hang). Requests are recorded as sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step =
  | { message: { text: string; model?: string; usage: Record<string, unknown>; stopReason?: string } }
  | { error: { status: number; type: string; message: string; headers?: Record<string, string> } }
  | { cutStream: true }
  | { hang: true }
  | { garbage: string };

export class FakeAnthropic {
  readonly requests: Array<{ path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  private readonly steps: Step[] = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeAnthropic> {
    let self!: FakeAnthropic;
    const server = http.createServer((req, res) => self.handle(req, res));
    self = new FakeAnthropic(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(...steps: Step[]): void {
    this.steps.push(...steps);
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      this.requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.method !== 'POST' || req.url !== '/v1/messages') return this.json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.url}` } });
      const step = this.steps.shift();
      if (!step) return this.json(res, 500, { type: 'error', error: { type: 'api_error', message: 'the fake has no scripted step left' } });
      if ('error' in step) return this.json(res, step.error.status, { type: 'error', error: { type: step.error.type, message: step.error.message }, request_id: 'req_fake' }, step.error.headers);
      if ('hang' in step) {
        this.hanging.add(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return;
      }
      if ('garbage' in step) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(step.garbage);
      }
      const model = String(body['model']);
      if ('cutStream' in step) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse('message_start', { type: 'message_start', message: { id: 'msg_cut', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }));
        return void res.destroy();
      }
      const m = step.message;
      const served = m.model ?? model;
      const usage: Record<string, unknown> = { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: null, ...m.usage };
      if (body['stream']) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse('message_start', { type: 'message_start', message: { id: 'msg_fake', type: 'message', role: 'assistant', model: served, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }));
        res.write(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
        for (const part of m.text.match(/.{1,8}/gs) ?? []) res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: part } }));
        res.write(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
        res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: m.stopReason ?? 'end_turn', stop_sequence: null }, usage: { output_tokens: usage['output_tokens'] } }));
        res.write(sse('message_stop', { type: 'message_stop' }));
        return void res.end();
      }
      this.json(res, 200, { id: 'msg_fake', type: 'message', role: 'assistant', model: served, content: [{ type: 'text', text: m.text }], stop_reason: m.stopReason ?? 'end_turn', stop_sequence: null, usage });
    });
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake', ...headers });
    res.end(JSON.stringify(body));
  }
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
