/**
 * Clients of long-lived connections, as browsers and services hold them: a WebSocket (the `ws`
 * package) and an event stream (undici, reading the streamed body). Each records the messages it
 * got (`{"version":"…","pid":…}`, see long-lived-apps.ts) and how its connection ended, with the
 * time: a WebSocket's close code and reason (1006: no close frame, the connection was cut), an
 * event stream's clean end or error (a chunked body cut short is an error, `UND_ERR_SOCKET`).
 */
import { Client } from 'undici';
import WebSocket from 'ws';

/** What every message and answer of the apps says. */
export interface Hello {
  version: string;
  pid: number;
}

export interface WebSocketClosed {
  code: number;
  reason: string;
  /** When the client saw the close (ms epoch). */
  at: number;
  /** Errors the client saw before the close. */
  errors: string[];
}

export interface EventStreamEnded {
  /** The body ended as a complete response: no error. */
  clean: boolean;
  /** The error, when not clean. */
  error?: string;
  at: number;
  /** When the server closed the connection after it (ms epoch), if it has by now. */
  disconnectedAt(): number | undefined;
}

export interface LongLivedClient<Ended> {
  /** The first message (bounded: rejects after 10 s, or when the connection ends first). */
  first: Promise<Hello>;
  /** Every message so far. */
  messages: Hello[];
  /** How the connection ended; never rejects (it may never settle: bound the wait). */
  ended: Promise<Ended>;
  /** True once `ended` has settled. */
  isEnded(): boolean;
  /** Ends it from the client's side, at once (a test's cleanup). */
  close(): Promise<void>;
}

const FIRST_MESSAGE_MS = 10_000;

/** Opens a WebSocket to `url` (`ws://…/ws`). */
export function openWebSocket(url: string): LongLivedClient<WebSocketClosed> {
  const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
  const messages: Hello[] = [];
  const errors: string[] = [];
  let isEnded = false;
  socket.on('error', (error: Error & { code?: string }) => {
    errors.push(`${error.code ?? error.name}: ${error.message}`);
  });
  const ended = new Promise<WebSocketClosed>((resolve) => {
    socket.once('close', (code, reason) => {
      isEnded = true;
      resolve({ code, reason: reason.toString(), at: Date.now(), errors });
    });
  });
  const first = new Promise<Hello>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${url}: no message within ${FIRST_MESSAGE_MS} ms (${errors.join('; ')})`)), FIRST_MESSAGE_MS);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Hello;
      messages.push(message);
      clearTimeout(timer);
      resolve(message);
    });
    void ended.then((closed) => {
      clearTimeout(timer);
      reject(new Error(`${url}: closed (${closed.code} ${closed.reason}) before its first message (${errors.join('; ')})`));
    });
  });
  first.catch(() => undefined);
  return {
    first,
    messages,
    ended,
    isEnded: () => isEnded,
    close: async () => {
      if (!isEnded) socket.terminate();
      await ended;
    },
  };
}

/**
 * Opens an event stream: GET `path` on a connection of its own (an undici Client, kept open after
 * the stream ends, as a browser keeps its connections), reading `data:` events as they come.
 */
export function openEventStream(origin: string, path = '/events'): LongLivedClient<EventStreamEnded> {
  const client = new Client(origin, { connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  let disconnectedAt: number | undefined;
  client.on('disconnect', () => {
    disconnectedAt ??= Date.now();
  });
  const messages: Hello[] = [];
  let isEnded = false;
  let firstMessage: (message: Hello) => void = () => undefined;
  const first = new Promise<Hello>((resolve) => {
    firstMessage = resolve;
  });
  const aborter = new AbortController();
  const ended = (async (): Promise<EventStreamEnded> => {
    const end = (clean: boolean, error?: string): EventStreamEnded => {
      isEnded = true;
      return { clean, ...(error === undefined ? {} : { error }), at: Date.now(), disconnectedAt: () => disconnectedAt };
    };
    try {
      const response = await client.request({ method: 'GET', path, signal: aborter.signal });
      if (response.statusCode !== 200 || !String(response.headers['content-type']).startsWith('text/event-stream')) {
        const text = await response.body.text();
        return end(false, `GET ${path}: ${response.statusCode} ${String(response.headers['content-type'])} ${text.slice(0, 200)}`);
      }
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += String(chunk);
        for (let at = buffer.indexOf('\n\n'); at !== -1; at = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const message = JSON.parse(data.slice('data: '.length)) as Hello;
          messages.push(message);
          firstMessage(message);
        }
      }
      return end(true);
    } catch (error) {
      const { code, message } = error as Error & { code?: string };
      return end(false, `${code ?? (error as Error).name}: ${message}`);
    }
  })();
  const firstBounded = Promise.race([
    first,
    ended.then((how) => Promise.reject(new Error(`GET ${origin}${path}: ended (${how.clean ? 'cleanly' : how.error}) before its first event`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`GET ${origin}${path}: no event within ${FIRST_MESSAGE_MS} ms`)), FIRST_MESSAGE_MS).unref()),
  ]);
  firstBounded.catch(() => undefined);
  return {
    first: firstBounded,
    messages,
    ended,
    isEnded: () => isEnded,
    close: async () => {
      if (!isEnded) aborter.abort();
      await ended;
      await client.destroy().catch(() => undefined);
    },
  };
}

/** `promise`'s value, or a rejection naming `what` once `ms` have passed (never less than 0). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${Math.round(ms)} ms`)), Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}
