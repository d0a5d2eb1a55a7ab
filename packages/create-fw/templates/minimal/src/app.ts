import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The app: a plain Node.js request listener, no framework. fw serves it on its own sockets
 * (a default export with two parameters, `req` and `res`, is taken as a listener) and reloads
 * it without dropping a request. The app never calls `listen` itself.
 */
export default function app(req: IncomingMessage, res: ServerResponse): void {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && pathname === '/') send(res, 200, { hello: 'world' });
  else if (req.method === 'GET' && pathname === '/health') send(res, 200, { ok: true, pid: process.pid });
  else send(res, 404, { error: 'Not Found', path: pathname });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
