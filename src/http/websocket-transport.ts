import type { WebSocket, WebsocketHandler } from "@fastify/websocket";
import type { FastifyRequest } from "fastify";
import { CloseCode, type Server } from "graphql-ws";
import type { StreamTransport } from "../events/event-stream.js";
import type { Logger } from "../logger.js";

/** Bytes a socket may have unsent (its own `bufferedAmount`) before its client counts as too slow. */
export const MAX_SOCKET_BUFFER_BYTES = 1024 * 1024;
/** A message not yet handed to the network this long after it was sent: the client stopped reading. */
export const SEND_STALL_MS = 15_000;
/** Ping interval, and how long a pong may take. */
export const KEEPALIVE_MS = 12_000;
/** Close code for a client that cannot keep up (graphql-ws leaves 44xx codes to applications). */
export const SLOW_CONSUMER_CLOSE_CODE = 4499;
/** How often every socket is looked at (buffer, stalled sends, keepalive). */
const SWEEP_MS = 1_000;

export interface SocketLimits {
  maxBufferedBytes: number;
  stallMs: number;
  keepAliveMs: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  maxBufferedBytes: MAX_SOCKET_BUFFER_BYTES,
  stallMs: SEND_STALL_MS,
  keepAliveMs: KEEPALIVE_MS,
};

/** What a watch needs of a `ws` socket (unit tests give it a fake). */
export interface WatchableSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, callback: (error?: Error) => void): void;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** Why a watch gave up on its socket: a client that does not read what it is sent, or a dead peer. */
export type SocketFate = { kind: "slow"; reason: string } | { kind: "dead" };

const OPEN = 1;

/**
 * One socket's send side. A send resolves when `ws` has handed the message to the network, so
 * graphql-ws pulls the next event only then (backpressure: events wait in the subscription's
 * bounded queue, not in the socket). The client is too slow — closed with 4499 — when the
 * socket's own buffer passes the bound (checked after every send and every second, whatever
 * our queues hold), when a message has waited `stallMs` to go out, or when a ping goes
 * unanswered after messages were sent to it (the kernel's buffers can hold megabytes, so
 * "nothing waits here" does not mean the client read them). A ping unanswered when nothing was
 * sent since the last pong is a dead peer: terminated (no close handshake could finish).
 */
export class SocketWatch {
  /** Sends not yet handed to the network, oldest first (`ws` calls back in order). */
  private readonly unsent: { since: number; done: () => void }[] = [];
  private pingSentAt: number | undefined;
  private lastPingAt: number;
  /** Whether anything was sent since the last pong (or since the socket opened). */
  private sentSincePong = false;
  private ended = false;

  constructor(
    private readonly socket: WatchableSocket,
    private readonly onFate: (fate: SocketFate) => void,
    private readonly limits: SocketLimits = DEFAULT_SOCKET_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.lastPingAt = now();
  }

  get unsentCount(): number {
    return this.unsent.length;
  }

  send(data: string): Promise<void> {
    if (this.ended || this.socket.readyState !== OPEN) return Promise.resolve();
    this.sentSincePong = true;
    return new Promise((resolve) => {
      this.unsent.push({ since: this.now(), done: resolve });
      this.socket.send(data, () => this.unsent.shift()?.done());
      if (this.socket.bufferedAmount > this.limits.maxBufferedBytes)
        this.tooSlow("send buffer over its bound");
    });
  }

  pong(): void {
    this.pingSentAt = undefined;
    this.sentSincePong = false;
  }

  /** One look at the socket (every second): acts at most once. */
  check(): void {
    if (this.ended) return;
    const now = this.now();
    const slow = this.slowReason(now);
    if (slow) {
      this.tooSlow(slow);
      return;
    }
    if (this.pingSentAt !== undefined) {
      if (now - this.pingSentAt > this.limits.keepAliveMs) {
        this.ended = true;
        this.onFate({ kind: "dead" });
      }
      return;
    }
    if (now - this.lastPingAt >= this.limits.keepAliveMs) {
      this.pingSentAt = now;
      this.lastPingAt = now;
      this.socket.ping();
    }
  }

  /** Why the client counts as too slow now, if it does. */
  private slowReason(now: number): string | undefined {
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) return "send buffer over its bound";
    const oldest = this.unsent[0];
    if (oldest && now - oldest.since > this.limits.stallMs) return "not reading";
    const pongOverdue = this.pingSentAt !== undefined && now - this.pingSentAt > this.limits.keepAliveMs;
    if (pongOverdue && (this.sentSincePong || this.unsent.length > 0 || this.socket.bufferedAmount > 0))
      return "no pong after messages were sent";
    return undefined;
  }

  /** The socket is gone (or given up on): graphql-ws's waiting sends go on, and send nothing more. */
  end(): void {
    this.ended = true;
    for (const entry of this.unsent.splice(0)) entry.done();
  }

  /** Gives up on a client that cannot keep up (also when a subscription's own queue overflows). */
  tooSlow(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onFate({
      kind: "slow",
      reason: reason.startsWith("slow consumer") ? reason : `slow consumer: ${reason}`,
    });
  }
}

/** What graphql-ws's fastify adapter hands its callbacks as `extra`; ours adds to it. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: FastifyRequest;
  /** The socket's send side, as the subscriptions' bounded streams see it. */
  readonly transport: StreamTransport;
}

/**
 * graphql-ws's protocol core (`makeServer`) on the sockets @fastify/websocket accepts: a thin
 * adapter in place of graphql-ws's own, so the send side is watched ({@link SocketWatch}),
 * nothing internal reaches a close reason, and problems go to our logger, once per socket.
 * `extra(socket, request)` builds what the server's callbacks get as `ctx.extra`.
 */
export function graphQLWebSocketTransport<E extends SocketExtra>(
  server: Server<E>,
  deps: {
    logger: Logger;
    extra(base: SocketExtra): E;
    limits?: SocketLimits;
  },
): { handler: WebsocketHandler; close(): void } {
  const watches = new Set<SocketWatch>();
  let sweep: NodeJS.Timeout | undefined;

  const limits = deps.limits ?? DEFAULT_SOCKET_LIMITS;
  const handler: WebsocketHandler = (socket, request) => {
    let closed: ((code: number, reason: string) => Promise<void>) | undefined;
    let finished = false;
    const finish = (code: number, reason: string) => {
      if (finished) return;
      finished = true;
      watches.delete(watch);
      watch.end();
      // Ends every subscription of the socket now (also when it was only asked to close).
      void closed?.(code, reason).catch((error: unknown) =>
        deps.logger.error({ err: error }, "error while closing a GraphQL WebSocket"),
      );
    };
    const watch = new SocketWatch(
      socket,
      (fate) => {
        if (fate.kind === "dead") return socket.terminate();
        deps.logger.info(
          { reason: fate.reason, bufferedBytes: socket.bufferedAmount, unsent: watch.unsentCount },
          "dropping a WebSocket client that does not keep up",
        );
        // The close frame waits behind what is buffered; `ws` destroys the socket if the
        // handshake does not finish within its close timeout, so what it holds stays bounded.
        socket.close(SLOW_CONSUMER_CLOSE_CODE, fate.reason);
        finish(SLOW_CONSUMER_CLOSE_CODE, fate.reason);
      },
      limits,
    );
    const extra = deps.extra({
      socket,
      request,
      transport: {
        overloaded: () => socket.bufferedAmount > limits.maxBufferedBytes,
        drop: (reason) => watch.tooSlow(reason),
      },
    });
    watches.add(watch);
    if (!sweep) {
      sweep = setInterval(() => {
        for (const each of watches) each.check();
      }, SWEEP_MS);
      sweep.unref();
    }
    socket.on("pong", () => watch.pong());
    // Bad frames, oversized messages: `ws` closes the socket itself (1002/1009); the close is logged.
    socket.on("error", () => undefined);
    socket.once("close", (code: number, reason: Buffer) => finish(code, reason.toString()));
    closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => watch.send(data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (callback) =>
          socket.on("message", async (data: Buffer) => {
            try {
              await callback(data.toString());
            } catch (error) {
              deps.logger.error({ err: error }, "internal error handling a GraphQL WebSocket message");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      extra,
    );
  };

  return {
    handler,
    close() {
      if (sweep) clearInterval(sweep);
      sweep = undefined;
    },
  };
}
