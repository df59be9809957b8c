/**
 * What the soak's workers do: verified CONNECT, UDP ASSOCIATE and BIND
 * exchanges through the proxy, and faults (clients that vanish mid-transfer,
 * targets that reset, garbage and abandoned handshakes). Every operation is
 * bounded in time; the verified ones compare every byte.
 *
 * @module
 */

import type { Connection } from "../../src/runtime/transport.ts";
import { bind } from "../../src/mod.ts";
import { connect } from "../../src/mod.ts";
import { udpAssociate } from "../../src/mod.ts";
import { decodeUdpDatagram } from "../../src/protocol/udp_header.ts";

/** Where the workers send traffic. */
export interface WorkContext {
  proxy: { hostname: string; port: number };
  echo: Deno.NetAddr;
  reset: Deno.NetAddr;
  udpEcho: Deno.NetAddr;
}

/** What one operation did. */
export interface Outcome {
  /** Payload bytes compared and found equal. */
  verified: number;
  /** Payload bytes that arrived different from what was sent. */
  mismatches: number;
  /** UDP datagrams that never came back (UDP may drop; not a mismatch). */
  udpLost: number;
}

/** One kind of operation. */
export interface Operation {
  name: string;
  /** Relative frequency. */
  weight: number;
  /** Whether it injects a fault (its failures are expected). */
  fault: boolean;
  run(context: WorkContext, rng: Rng): Promise<Outcome>;
}

/** A small seeded generator, so a run can be repeated. */
export class Rng {
  #state: number;
  /** @param seed Any 32-bit number. */
  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }
  /** @returns A 32-bit unsigned integer. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
  /** @returns An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + (this.next() % (max - min + 1));
  }
  /** @returns A size between min and max, log-uniform. */
  size(min: number, max: number): number {
    const f = this.next() / 0x1_0000_0000;
    return Math.round(
      Math.exp(Math.log(min) + f * (Math.log(max) - Math.log(min))),
    );
  }
}

/** Hang bound of one operation. */
export const OPERATION_TIMEOUT_MS = 30_000;

const _NONE: Outcome = { verified: 0, mismatches: 0, udpLost: 0 };

/**
 * Deterministic bytes for a seed.
 *
 * @param length How many.
 * @param seed The seed.
 * @returns The bytes.
 */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The operations and how often each runs. */
export const OPERATIONS: readonly Operation[] = [
  { name: "connect", weight: 40, fault: false, run: _connectEcho },
  { name: "udp", weight: 15, fault: false, run: _udpEcho },
  { name: "bind", weight: 15, fault: false, run: _bindExchange },
  { name: "client_vanishes", weight: 8, fault: true, run: _clientVanishes },
  { name: "target_resets", weight: 8, fault: true, run: _targetResets },
  { name: "garbage", weight: 8, fault: true, run: _garbage },
  { name: "abandoned_bind", weight: 6, fault: true, run: _abandonedBind },
];

/**
 * Picks an operation by weight.
 *
 * @param rng The generator.
 * @returns An operation.
 */
export function pickOperation(rng: Rng): Operation {
  const total = OPERATIONS.reduce((sum, op) => sum + op.weight, 0);
  let roll = rng.int(0, total - 1);
  for (const op of OPERATIONS) {
    if (roll < op.weight) return op;
    roll -= op.weight;
  }
  return OPERATIONS[0]!;
}

/**
 * Writes `data` on `writer` while checking that `reader` receives exactly
 * `expected`, then half-closes and checks for EOF.
 */
async function _exchange(
  writer: Connection,
  reader: Connection,
  data: Uint8Array,
  expected: Uint8Array,
): Promise<Outcome> {
  let mismatches = 0;
  const checking = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    let at = 0;
    for (;;) {
      const n = await reader.read(buffer);
      if (n === null) break;
      for (let i = 0; i < n; i++) {
        if (buffer[i] !== expected[at + i]) mismatches++;
      }
      at += n;
    }
    return at;
  })();
  let written = 0;
  while (written < data.length) {
    written += await writer.write(data.subarray(written, written + 64 * 1024));
  }
  await writer.closeWrite();
  const received = await checking;
  if (received !== expected.length) {
    mismatches += Math.abs(received - expected.length);
  }
  return {
    verified: expected.length - Math.min(mismatches, expected.length),
    mismatches,
    udpLost: 0,
  };
}

async function _connectEcho(context: WorkContext, rng: Rng): Promise<Outcome> {
  const data = pattern(rng.size(1024, 1 << 20), rng.next());
  const { conn } = await connect(
    { host: "127.0.0.1", port: context.echo.port },
    { proxy: context.proxy, signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) },
  );
  try {
    return await _bounded(_exchange(conn, conn, data, data), conn);
  } finally {
    _close(conn);
  }
}

async function _bindExchange(context: WorkContext, rng: Rng): Promise<Outcome> {
  const binding = await bind({ host: "0.0.0.0", port: 0 }, {
    proxy: context.proxy,
    signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
  });
  let peer: Connection | undefined;
  try {
    peer = await Deno.connect({
      hostname: binding.bound.host,
      port: binding.bound.port,
    });
    await _bounded(binding.peer, binding.conn);
    const up = pattern(rng.size(1024, 256 * 1024), rng.next());
    const down = pattern(rng.size(1024, 256 * 1024), rng.next());
    const [a, b] = await _bounded(
      Promise.all([
        _exchange(binding.conn, peer, up, up),
        _exchange(peer, binding.conn, down, down),
      ]),
      binding.conn,
      peer,
    );
    return {
      verified: a.verified + b.verified,
      mismatches: a.mismatches + b.mismatches,
      udpLost: 0,
    };
  } finally {
    _close(binding.conn);
    _close(peer);
  }
}

async function _udpEcho(context: WorkContext, rng: Rng): Promise<Outcome> {
  const udp = await udpAssociate({
    proxy: context.proxy,
    signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
  });
  const seed = rng.next();
  const count = rng.int(5, 30);
  const waiting = new Map<number, (data: Uint8Array) => void>();
  let mismatches = 0;
  const receiving = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let bytes: Uint8Array;
      try {
        const [data, from] = await udp.socket.receive(buffer);
        if ((from as Deno.NetAddr).port !== udp.relay.port) continue;
        bytes = data;
      } catch {
        return;
      }
      try {
        const datagram = decodeUdpDatagram(bytes);
        if (datagram.address.port !== context.udpEcho.port) mismatches++;
        const seq = new DataView(datagram.data.buffer, datagram.data.byteOffset)
          .getUint32(0);
        waiting.get(seq)?.(datagram.data.slice());
      } catch {
        mismatches++;
      }
    }
  })();
  let verified = 0;
  let udpLost = 0;
  try {
    for (let seq = 0; seq < count; seq++) {
      const data = pattern(rng.int(4, 8192), seed + seq);
      new DataView(data.buffer).setUint32(0, seq);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answer = new Promise<Uint8Array | null>((resolve) => {
        waiting.set(seq, resolve);
        timer = setTimeout(() => resolve(null), 2_000);
      });
      await udp.send(data, { host: "127.0.0.1", port: context.udpEcho.port });
      const got = await answer;
      clearTimeout(timer);
      waiting.delete(seq);
      if (got === null) udpLost++;
      else if (_equal(got, data)) verified += data.length;
      else mismatches++;
    }
  } finally {
    udp.close();
    await receiving;
  }
  return { verified, mismatches, udpLost };
}

async function _clientVanishes(
  context: WorkContext,
  rng: Rng,
): Promise<Outcome> {
  const { conn } = await connect(
    { host: "127.0.0.1", port: context.echo.port },
    { proxy: context.proxy, signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) },
  );
  try {
    const data = pattern(rng.size(4096, 512 * 1024), rng.next());
    let written = 0;
    const stopAt = rng.int(1, data.length);
    while (written < stopAt) {
      written += await conn.write(data.subarray(written, stopAt));
    }
    await conn.read(new Uint8Array(1024));
  } finally {
    _close(conn); // unread echo pending: the close is a reset
  }
  return _NONE;
}

async function _targetResets(context: WorkContext, rng: Rng): Promise<Outcome> {
  const { conn } = await connect(
    { host: "127.0.0.1", port: context.reset.port },
    { proxy: context.proxy, signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) },
  );
  try {
    const chunk = pattern(64 * 1024, rng.next());
    await _bounded(
      (async () => {
        // The target resets after 4 KiB: the proxy must close this side.
        try {
          for (let i = 0; i < 1_000; i++) await conn.write(chunk);
        } catch {
          return;
        }
        throw new Error("Target reset did not close the client side");
      })(),
      conn,
    );
  } finally {
    _close(conn);
  }
  return _NONE;
}

async function _garbage(context: WorkContext, rng: Rng): Promise<Outcome> {
  const conn = await Deno.connect(context.proxy);
  try {
    const bytes = pattern(rng.int(1, 300), rng.next());
    if (rng.int(0, 1) === 0) bytes[0] = 5;
    try {
      await conn.write(bytes);
      if (rng.int(0, 1) === 0) await conn.closeWrite();
    } catch {
      return _NONE;
    }
    // The server closes it: at once, or at the handshake deadline.
    await _bounded(
      (async () => {
        const buffer = new Uint8Array(1024);
        try {
          for (let i = 0; i < 64; i++) {
            if ((await conn.read(buffer)) === null) return;
          }
        } catch {
          return;
        }
      })(),
      conn,
    );
  } finally {
    _close(conn);
  }
  return _NONE;
}

async function _abandonedBind(context: WorkContext): Promise<Outcome> {
  const binding = await bind({ host: "0.0.0.0", port: 0 }, {
    proxy: context.proxy,
    signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
  });
  _close(binding.conn);
  await binding.peer.catch(() => {});
  return _NONE;
}

/** Awaits `promise`, closing `conns` if it is still pending at the bound. */
async function _bounded<T>(
  promise: Promise<T>,
  ...conns: Array<Connection | undefined>
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const conn of conns) _close(conn);
      reject(
        new Error(`Operation still pending after ${OPERATION_TIMEOUT_MS} ms`),
      );
    }, OPERATION_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function _close(conn: { close(): void } | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}

function _equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
