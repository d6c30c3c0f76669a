/** A loopback HTTP server for provider fakes: JSON body read, request recorded, the handler answers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export class Loopback {
  readonly requests: Recorded[] = [];
  private constructor(private readonly server: http.Server) {}

  static async start(handle: (req: Recorded, res: http.ServerResponse) => void): Promise<Loopback> {
    let self!: Loopback;
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') as Record<string, unknown> };
        self.requests.push(rec);
        handle(rec, res);
      });
    });
    self = new Loopback(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return self;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
