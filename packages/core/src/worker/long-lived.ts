import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Close codes fw sends (RFC 6455 §7.4, IANA registry): others go on serving, or the server stops. */
export const CLOSE_SERVICE_RESTART = 1012;
export const CLOSE_GOING_AWAY = 1001;

/** How long a socket fw sent a close frame on may take to finish the closing handshake. */
const CLOSE_HANDSHAKE_MS = 1_000;

interface Upgraded {
  socket: Socket;
  websocket: boolean;
}

/** What fw ended itself when the app left long-lived connections open. */
export interface LongLivedClosed {
  websockets: number;
  eventStreams: number;
  /** Upgraded connections of another protocol, or WebSockets whose handshake had not been answered. */
  other: number;
}

/**
 * The connections a drain cannot end with `Connection: close`: upgraded sockets (WebSockets) and
 * event streams (`text/event-stream` responses). Neither ever finishes on its own, so the app is
 * told at once (its close path) and fw ends what is left at the long-lived timeout, the way each
 * protocol ends cleanly: a WebSocket close frame, the stream's last chunk.
 */
export class LongLivedConnections {
  private readonly upgraded = new Set<Upgraded>();

  constructor(server: Server, private readonly inFlight: ReadonlySet<ServerResponse>) {
    // Seen without listening: an `upgrade` listener of fw's own would make Node hand every upgrade
    // request to listeners, and an app without one would never answer it.
    const emit = server.emit;
    server.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
      if (event === 'upgrade') track(args[0] as IncomingMessage, args[1] as Socket);
      return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
    } as typeof server.emit;
    const track = (req: IncomingMessage, socket: Socket) => {
      const entry = { socket, websocket: String(req.headers.upgrade).toLowerCase() === 'websocket' };
      this.upgraded.add(entry);
      socket.once('close', () => this.upgraded.delete(entry));
    };
  }

  get upgradedCount(): number {
    return this.upgraded.size;
  }

  /** Responses under way that are event streams. */
  eventStreams(): ServerResponse[] {
    const streams: ServerResponse[] = [];
    for (const res of this.inFlight) if (isEventStream(res)) streams.push(res);
    return streams;
  }

  /**
   * An event stream that was under way when the drain began announced no `Connection: close`:
   * once it ends (the app's close path, or fw), its connection is closed, not kept alive for
   * a request no event-stream client sends on it.
   */
  closeAfterEventStreams(): void {
    for (const res of this.eventStreams()) {
      const socket = res.socket;
      res.once('finish', () => socket?.end());
    }
  }

  /** Ends every long-lived connection still open; returns what it ended. */
  closeAll(code: number): LongLivedClosed {
    const closed: LongLivedClosed = { websockets: 0, eventStreams: 0, other: 0 };
    for (const { socket, websocket } of this.upgraded) {
      // bytesWritten: the app answered the handshake (101), so the peer speaks WebSocket now.
      if (websocket && socket.bytesWritten > 0 && socket.writable) {
        socket.write(closeFrame(code));
        socket.end();
        setTimeout(() => socket.destroy(), CLOSE_HANDSHAKE_MS).unref();
        closed.websockets++;
      } else {
        socket.destroy();
        closed.other++;
      }
    }
    for (const res of this.eventStreams()) {
      // A write of the app's after this end must not crash a worker on its way out.
      res.on('error', () => undefined);
      const socket = res.socket;
      res.once('finish', () => socket?.end());
      res.end();
      closed.eventStreams++;
    }
    return closed;
  }
}

/** True for a response whose headers went out as `text/event-stream` (or were set so). */
export function isEventStream(res: ServerResponse): boolean {
  if (!res.headersSent) return false;
  const type = res.getHeader('content-type');
  if (type !== undefined) return String(type).toLowerCase().startsWith('text/event-stream');
  // Headers given to writeHead() alone are not kept for getHeader(); the header block that went out is.
  const header = (res as unknown as { _header?: unknown })._header;
  return typeof header === 'string' && /\r\ncontent-type:[ \t]*text\/event-stream/i.test(header);
}

/** A server's close frame: FIN + opcode 8, unmasked, the code and a short reason. */
function closeFrame(code: number): Buffer {
  const reason = Buffer.from(code === CLOSE_SERVICE_RESTART ? 'service restart' : 'going away');
  return Buffer.concat([Buffer.from([0x88, 2 + reason.length, code >> 8, code & 0xff]), reason]);
}
