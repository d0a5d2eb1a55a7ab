import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * Development only: once a worker drains, a request that still reaches it on a kept-alive
 * connection is passed on to its successor, which now owns the listening socket, instead of
 * being answered by the old code. The browser that reloads right after a save sees the save,
 * and the connection closes after that response, as in production.
 */
export function forwardToSuccessor(server: Server, address: string): void {
  const target = new URL(address);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const port = Number(target.port);
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const upstream = http.request(
      { host: connectHost, port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false },
      (answer) => {
        const headers: http.OutgoingHttpHeaders = { ...answer.headers, connection: 'close' };
        delete headers['keep-alive'];
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) return res.destroy(error);
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`fw dev: the new worker did not answer: ${error.message}\n`);
    });
    req.pipe(upstream);
  });
}
