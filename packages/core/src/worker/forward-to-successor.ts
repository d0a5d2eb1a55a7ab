import http, { type IncomingMessage, type IncomingHttpHeaders, type OutgoingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';

/** Headers that describe one connection, not the request: never passed on (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];

/**
 * A request that reaches a draining worker on a connection it kept alive is passed on to the
 * workers that now serve the same socket (a newer generation, or the siblings of a worker that is
 * recycled or scaled down), and the connection closes after that response. So the app that drains
 * never sees a new request after its close path began (Fastify would answer 503 once it closes),
 * and the client gets the new version. The hop is one loopback connection per such request; the
 * client's address is passed on in `X-Forwarded-For`.
 */
export function forwardToSuccessor(address: string): RequestListener {
  const target = connectTarget(address);
  return (req: IncomingMessage, res: ServerResponse) => {
    const headers = passOn(req.headers);
    headers.connection = 'close';
    const peer = req.socket.remoteAddress;
    if (peer) headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${peer}` : peer;
    // A request without a body may be sent again if the worker it reached died before answering
    // (a new generation that crashes): the client has seen nothing yet.
    const resendable = canResend(req);
    let retries = resendable ? 1 : 0;
    let upstream: http.ClientRequest | undefined;
    res.once('close', () => {
      if (!res.writableFinished) upstream?.destroy();
    });
    const send = () => {
      upstream = http.request({ ...target, method: req.method, path: req.url, headers, agent: false }, (answer) => {
        const answerHeaders: OutgoingHttpHeaders = passOn(answer.headers);
        answerHeaders.connection = 'close';
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
        answer.pipe(res);
      });
      upstream.on('error', (error) => {
        if (res.headersSent) return res.destroy(error);
        if (retries-- > 0 && !res.destroyed) return send();
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`fw: the serving workers did not answer: ${error.message}\n`);
      });
      if (resendable) upstream.end();
      else req.pipe(upstream);
    };
    send();
  };
}

/** A GET, HEAD or OPTIONS request with no body: sending it again cannot do anything twice. */
function canResend(req: IncomingMessage): boolean {
  const idempotent = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
  return idempotent && !req.headers['transfer-encoding'] && (req.headers['content-length'] ?? '0') === '0';
}

/** Where to connect to reach the socket a worker was handed (`http://host:port` or `unix:path`). */
function connectTarget(address: string): { socketPath: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { socketPath: address.slice('unix:'.length) };
  const url = new URL(address);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host: host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port: Number(url.port) };
}

function passOn(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((name) => name.trim()));
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.includes(name) || named.has(name)) continue;
    kept[name] = value;
  }
  return kept;
}
