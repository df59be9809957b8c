/**
 * A bare SOCKS5 relay written straight on Bun's socket callbacks: no-auth
 * greeting, CONNECT, then bytes both ways with backpressure and half-close,
 * and nothing else (no rules, limits, timeouts, logs or metrics).
 *
 * It is the benchmark's ceiling for the single executable, not a product:
 * what Bun's sockets allow per connection when a session costs no promises,
 * no async frames and no bookkeeping. `deno task bench --servers
 * socks5-deno-exe,bun-bare` shows how far the shipped server is from it
 * (README, "Performance").
 *
 * `bun scripts/bench/bare_bun_relay.ts PORT` listens on 127.0.0.1:PORT (0: any
 * free port) and says so on stderr: `listening 127.0.0.1:PORT`.
 *
 * @module
 */

/// <reference path="../../src/runtime/bun/bun_api.d.ts" />

import process from "node:process";
import { decodeAddress, toSocksAddress } from "../../src/protocol/address.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { encodeReply } from "../../src/protocol/request.ts";

/** One socket's side of a relay. */
interface _Side {
  /** The other end, once the CONNECT has succeeded. */
  peer: BunTcpSocket<_Side> | null;
  /** Handshake bytes not parsed yet, or target bytes before the link. */
  input: Uint8Array | null;
  /** 0 greeting, 1 request, 2 connecting or relaying. */
  stage: number;
  /** Bytes the kernel has not taken yet; the peer is paused meanwhile. */
  owed: Uint8Array | null;
  /** The peer's FIN arrived while bytes were still owed to this socket. */
  finPending: boolean;
}

function _side(stage: number): _Side {
  return { peer: null, input: null, stage, owed: null, finPending: false };
}

function _join(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Writes to `to`; on a short write pauses `from` until `to` drains. */
function _forward(
  from: BunTcpSocket<_Side>,
  to: BunTcpSocket<_Side>,
  bytes: Uint8Array,
): void {
  if (to.data.owed) {
    to.data.owed = _join(to.data.owed, bytes);
    return;
  }
  const n = to.write(bytes);
  if (n < 0) return from.end();
  if (n < bytes.length) {
    to.data.owed = bytes.subarray(n);
    from.pause();
  }
}

/** Parses what has arrived of the handshake; starts the connect when whole. */
function _handshake(client: BunTcpSocket<_Side>, bytes: Uint8Array): void {
  const side = client.data;
  let input = _join(side.input, bytes);
  if (side.stage === 0) {
    if (input.length < 2 || input.length < 2 + input[1]!) {
      side.input = input;
      return;
    }
    if (input[0] !== 5 || !input.subarray(2, 2 + input[1]!).includes(0)) {
      client.write(Uint8Array.of(5, 0xff));
      return client.end();
    }
    client.write(Uint8Array.of(5, 0));
    input = input.subarray(2 + input[1]!);
    side.stage = 1;
  }
  if (input.length < 5) {
    side.input = input;
    return;
  }
  const atyp = input[3];
  const length = atyp === 1
    ? 10
    : atyp === 4
    ? 22
    : atyp === 3
    ? 7 + input[4]!
    : 0;
  if (length === 0) return _refuse(client, Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  if (input.length < length) {
    side.input = input;
    return;
  }
  if (input[0] !== 5 || input[1] !== 1) {
    return _refuse(client, Reply.COMMAND_NOT_SUPPORTED);
  }
  let target;
  try {
    target = decodeAddress(input, 3);
  } catch {
    return _refuse(client, Reply.GENERAL_FAILURE);
  }
  side.input = input.subarray(target.end);
  side.stage = 2;
  client.pause();
  Bun.connect<_Side>({
    hostname: target.address.host,
    port: target.address.port,
    allowHalfOpen: true,
    socket: _TARGET,
  }).then((remote) => {
    side.peer = remote;
    remote.data.peer = client;
    client.write(
      encodeReply(
        Reply.SUCCEEDED,
        toSocksAddress(remote.localAddress, remote.localPort),
      ),
    );
    const early = side.input;
    side.input = null;
    if (early && early.length > 0) _forward(client, remote, early);
    const back = remote.data.input;
    remote.data.input = null;
    if (back) _forward(remote, client, back);
    client.resume();
  }, () => _refuse(client, Reply.HOST_UNREACHABLE));
}

function _refuse(client: BunTcpSocket<_Side>, reply: Reply): void {
  client.write(encodeReply(reply));
  client.end();
}

/** Callbacks shared by both ends once linked. */
const _RELAY: BunSocketHandler<_Side> = {
  data(socket, bytes) {
    const peer = socket.data.peer;
    if (peer) _forward(socket, peer, bytes);
    else if (socket.data.stage < 2) _handshake(socket, bytes);
    else socket.data.input = _join(socket.data.input, bytes);
  },
  drain(socket) {
    const owed = socket.data.owed;
    if (!owed) return;
    const n = socket.write(owed);
    if (n < 0) return socket.end();
    socket.data.owed = n < owed.length ? owed.subarray(n) : null;
    if (socket.data.owed) return;
    if (socket.data.finPending) socket.shutdown();
    else socket.data.peer?.resume();
  },
  end(socket) {
    const peer = socket.data.peer;
    if (!peer) return socket.end();
    // Half-close: the FIN goes on once the bytes before it have.
    if (peer.data.owed) peer.data.finPending = true;
    else peer.shutdown();
  },
  close(socket) {
    socket.data?.peer?.end();
  },
  error() {
    // The close that follows ends the other side.
  },
};

const _TARGET: BunSocketHandler<_Side> = {
  ..._RELAY,
  open(socket) {
    socket.data = _side(2);
    socket.setNoDelay(true);
  },
  connectError() {
    // Bun.connect rejects as well: the client gets its reply there.
  },
};

if (import.meta.main) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("usage: bun scripts/bench/bare_bun_relay.ts PORT");
    process.exit(2);
  }
  const listener = Bun.listen<_Side>({
    hostname: "127.0.0.1",
    port,
    allowHalfOpen: true,
    socket: {
      ..._RELAY,
      open(socket) {
        socket.data = _side(0);
        socket.setNoDelay(true);
      },
    },
  });
  // Port 0 picks a free port: the line says which (the tests read it).
  console.error(`listening 127.0.0.1:${listener.port}`);
}
