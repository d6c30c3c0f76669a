/**
 * A loopback server speaking the Anthropic Messages wire protocol (JSON and SSE), answering from a
 * script: each request takes the next step (a message with its usage, an error with the API's error
 * body and headers, a cut stream, a hang). Requests are recorded as sent.
 */
import type http from 'node:http';
import { Loopback, sendJson, type Recorded } from './loopback.js';

export type Step =
  | { message: { text: string; model?: string; usage: Record<string, unknown>; stopReason?: string } }
  | { error: { status: number; type: string; message: string; headers?: Record<string, string> } }
  | { cutStream: true }
  | { hang: true }
  | { garbage: string };

export class FakeAnthropic {
  private readonly steps: Step[] = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private server!: Loopback;

  static async start(): Promise<FakeAnthropic> {
    const self = new FakeAnthropic();
    self.server = await Loopback.start((req, res) => self.handle(req, res));
    return self;
  }

  get requests(): Recorded[] {
    return this.server.requests;
  }

  get url(): string {
    return this.server.origin;
  }

  script(...steps: Step[]): void {
    this.steps.push(...steps);
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    await this.server.stop();
  }

  private handle(req: Recorded, res: http.ServerResponse): void {
    const body = req.body;
    const json = (status: number, b: unknown, headers: Record<string, string> = {}) => sendJson(res, status, b, { 'request-id': 'req_fake', ...headers });
    if (req.method !== 'POST' || req.path !== '/v1/messages') return json(404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.path}` } });
    const step = this.steps.shift();
    if (!step) return json(500, { type: 'error', error: { type: 'api_error', message: 'the fake has no scripted step left' } });
    if ('error' in step) return json(step.error.status, { type: 'error', error: { type: step.error.type, message: step.error.message }, request_id: 'req_fake' }, step.error.headers);
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
    json(200, { id: 'msg_fake', type: 'message', role: 'assistant', model: served, content: [{ type: 'text', text: m.text }], stop_reason: m.stopReason ?? 'end_turn', stop_sequence: null, usage });
  }
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
