/** A loopback server speaking the OpenAI Responses wire protocol (JSON), answering from a script. */
import type http from 'node:http';
import { Loopback, sendJson, type Recorded } from './loopback.js';

export type OpenAIStep =
  | { response: { text: string; model?: string; input: number; cached?: number; output: number } }
  | { error: { status: number; code: string | null; type: string; message: string; headers?: Record<string, string> } };

export class FakeOpenAI {
  private readonly steps: OpenAIStep[] = [];
  private server!: Loopback;

  static async start(): Promise<FakeOpenAI> {
    const self = new FakeOpenAI();
    self.server = await Loopback.start((req, res) => self.handle(req, res));
    return self;
  }

  get requests(): Recorded[] {
    return this.server.requests;
  }

  get url(): string {
    return `${this.server.origin}/v1`;
  }

  script(...steps: OpenAIStep[]): void {
    this.steps.push(...steps);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private handle(req: Recorded, res: http.ServerResponse): void {
    const json = (status: number, b: unknown, headers: Record<string, string> = {}) => sendJson(res, status, b, headers);
    if (req.method !== 'POST' || req.path !== '/v1/responses') return json(404, { error: { message: `no route ${req.path}`, type: 'invalid_request_error', param: null, code: null } });
    const step = this.steps.shift();
    if (!step) return json(500, { error: { message: 'the fake has no scripted step left', type: 'server_error', param: null, code: null } });
    if ('error' in step) return json(step.error.status, { error: { message: step.error.message, type: step.error.type, param: null, code: step.error.code } }, step.error.headers);
    const r = step.response;
    json(200, {
      id: 'resp_fake', object: 'response', created_at: 1764633600, status: 'completed', model: r.model ?? req.body['model'], error: null, incomplete_details: null,
      output: [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: r.text, annotations: [] }] }],
      usage: { input_tokens: r.input, input_tokens_details: { cached_tokens: r.cached ?? 0 }, output_tokens: r.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: r.input + r.output },
    });
  }
}
