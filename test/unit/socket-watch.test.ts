import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SocketFate, SocketWatch, type WatchableSocket } from "../../src/http/websocket-transport.js";

const LIMITS = { maxBufferedBytes: 1000, stallMs: 15_000, keepAliveMs: 12_000 };

/** A `ws` socket as far as the watch sees it: the test decides what is buffered and when writes finish. */
function fakeSocket() {
  const pending: ((error?: Error) => void)[] = [];
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    pings: 0,
    send(_data: string, callback: (error?: Error) => void) {
      pending.push(callback);
    },
    ping() {
      socket.pings++;
    },
    close() {},
    terminate() {},
    /** The network took the oldest write. */
    flush() {
      pending.shift()?.();
    },
  };
  return socket satisfies WatchableSocket & Record<string, unknown>;
}

function watched() {
  let now = 0;
  const fates: SocketFate[] = [];
  const socket = fakeSocket();
  const watch = new SocketWatch(
    socket,
    (fate) => fates.push(fate),
    LIMITS,
    () => now,
  );
  return { socket, watch, fates, advance: (ms: number) => (now += ms) };
}

describe("WebSocket send side", () => {
  it("resolves a send only when the network has taken it", async () => {
    const { socket, watch } = watched();
    let sent = false;
    const sending = watch.send("a").then(() => (sent = true));
    await Promise.resolve();
    assert.equal(sent, false);
    socket.flush();
    await sending;
    assert.equal(watch.unsentCount, 0);
  });

  it("drops a client whose socket buffer passes its bound, whatever our queues hold", () => {
    const { socket, watch, fates } = watched();
    socket.bufferedAmount = 1001;
    watch.check();
    assert.deepEqual(fates, [{ kind: "slow", reason: "slow consumer: send buffer over its bound" }]);
    watch.check();
    assert.equal(fates.length, 1, "once");
  });

  it("drops a client whose send has waited too long", () => {
    const { watch, fates, advance } = watched();
    void watch.send("a");
    advance(15_000);
    watch.check();
    assert.equal(fates.length, 0);
    advance(1);
    watch.check();
    assert.deepEqual(fates, [{ kind: "slow", reason: "slow consumer: not reading" }]);
  });

  it("drops as slow a client that stops answering pings after it was sent messages, even when the kernel took them", () => {
    const { socket, watch, fates, advance } = watched();
    void watch.send("a");
    socket.flush();
    advance(12_000);
    watch.check();
    assert.equal(socket.pings, 1);
    advance(12_001);
    watch.check();
    assert.deepEqual(fates, [{ kind: "slow", reason: "slow consumer: no pong after messages were sent" }]);
  });

  it("terminates a peer that answers no ping when nothing was sent to it, and keeps one that answers", () => {
    const { socket, watch, fates, advance } = watched();
    advance(12_000);
    watch.check();
    advance(6_000);
    watch.pong();
    advance(6_000);
    watch.check();
    assert.equal(socket.pings, 2, "answered: pinged again on time");
    advance(12_001);
    watch.check();
    assert.deepEqual(fates, [{ kind: "dead" }]);
  });

  it("lets waiting sends go on once the socket is gone, and sends nothing more", async () => {
    const { watch } = watched();
    const waiting = watch.send("a");
    watch.end();
    await waiting;
    await watch.send("b");
    assert.equal(watch.unsentCount, 0);
  });
});
