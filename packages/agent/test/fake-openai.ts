/** A loopback server speaking the OpenAI Responses wire protocol (JSON), answering from a script. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type OpenAIStep =
  | { response: { text: string; model?: string; input: number; cached?: number; output: number } }
  | { error: { status: number; code: string | null; type: string; message: string; headers?: Record<string, string> } };

export class FakeOpenAI {
  readonly requests: Array<{ path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  private readonly steps: OpenAIStep[] = [];
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeOpenAI> {
    let self!: FakeOpenAI;
    const server = http.createServer((req, res) => self.handle(req, res));
    self = new FakeOpenAI(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  script(...steps: OpenAIStep[]): void {
    this.steps.push(...steps);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      this.requests.push({ path: req.url ?? '', headers: req.headers, body });
      const json = (status: number, b: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(b));
      };
      if (req.method !== 'POST' || req.url !== '/v1/responses') return json(404, { error: { message: `no route ${req.url}`, type: 'invalid_request_error', param: null, code: null } });
      const step = this.steps.shift();
      if (!step) return json(500, { error: { message: 'the fake has no scripted step left', type: 'server_error', param: null, code: null } });
      if ('error' in step) return json(step.error.status, { error: { message: step.error.message, type: step.error.type, param: null, code: step.error.code } }, step.error.headers);
      const r = step.response;
      json(200, {
        id: 'resp_fake', object: 'response', created_at: 1764633600, status: 'completed', model: r.model ?? body['model'], error: null, incomplete_details: null,
        output: [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: r.text, annotations: [] }] }],
        usage: { input_tokens: r.input, input_tokens_details: { cached_tokens: r.cached ?? 0 }, output_tokens: r.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: r.input + r.output },
      });
    });
  }
}
