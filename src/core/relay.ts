/**
 * The TCP relay: two read/write loops with TCP half-close forwarded.
 *
 * @module
 */

import type { RateLimit } from "../policy/limits.ts";
import type { Connection } from "../runtime/transport.ts";
import { closeQuietly } from "./close_quietly.ts";

/** A live byte count, read by the idle watchdog and the access log. */
export interface ByteCounter {
  /** Bytes moved so far. */
  bytes: number;
}

/** A read already in flight on a connection, with the buffer it fills. */
export interface PendingRead {
  /** The `conn.read(buffer)` promise. */
  result: Promise<number | null>;
  /** The buffer passed to `conn.read`. */
  buffer: Uint8Array;
}

/** Options of {@linkcode relay}. */
export interface RelayOptions {
  /** Counts client → target bytes. */
  up: ByteCounter;
  /** Counts target → client bytes. */
  down: ByteCounter;
  /**
   * Bytes already read from the client that must reach the target before
   * anything else (data pipelined behind the handshake).
   */
  clientPrefix?: Uint8Array;
  /** A read already in flight on the client connection. */
  clientPending?: PendingRead;
  /** Bandwidth limit of client → target (absent: unlimited). */
  upLimit?: RateLimit;
  /** Bandwidth limit of target → client (absent: unlimited). */
  downLimit?: RateLimit;
}

/** The first read uses a small buffer so that idle connections stay cheap. */
const _MIN_BUFFER = 512;
/** A full read grows the buffer fourfold, up to this. */
const _MAX_BUFFER = 64 * 1024;
/** After this many consecutive small reads the buffer shrinks back. */
const _SHRINK_AFTER = 4;

/**
 * Relays bytes both ways until both directions have ended, then closes both
 * connections.
 *
 * End of stream on one side becomes `closeWrite()` (a FIN) on the other, and
 * the opposite direction keeps flowing: a client may send its request, shut
 * down its sending side, and still receive the whole answer. An error on
 * either side (reset, broken pipe, a close from outside) ends both.
 *
 * Each direction is a `read()`/`write()` loop over one reused buffer, which
 * measured about 2× faster than `readable.pipeTo(writable)` here (README,
 * "Design"), and which
 * `pipeTo` could not do anyway: EOF on a Deno connection's `readable` closes
 * the whole socket, so half-close cannot be forwarded through it. When the
 * runtime offers `Connection.splice` (Bun), the relay hands both connections
 * to it instead: the same contract, moved into the socket callbacks.
 *
 * @param client The client connection.
 * @param target The connection to the destination.
 * @param options Counters and any bytes already read from the client.
 * @returns When both directions are done and both connections closed.
 */
export function relay(
  client: Connection,
  target: Connection,
  options: RelayOptions,
): Promise<void> {
  // Not an async function, and the caller returns this promise instead of
  // awaiting it: every suspended async frame and await costs memory on each
  // idle connection (measured with heap snapshots: about 13 KiB per session
  // were promises, closures and generators).
  const closeBoth = () => {
    closeQuietly(client);
    closeQuietly(target);
  };
  const spliced = _trySplice(client, target, options);
  if (spliced) return spliced.then(closeBoth, closeBoth);
  return _loops(client, target, options).then(closeBoth);
}

/** Two read/write loops; an error in either closes both connections. */
function _loops(
  client: Connection,
  target: Connection,
  options: RelayOptions,
): Promise<unknown> {
  const fail = () => {
    closeQuietly(client);
    closeQuietly(target);
  };
  const ends = { count: 0 };
  return Promise.all([
    (options.upLimit
      ? _limitedPump(
        client,
        target,
        options.up,
        ends,
        options.upLimit,
        options.clientPrefix,
        options.clientPending,
      )
      : _pump(
        client,
        target,
        options.up,
        ends,
        options.clientPrefix,
        options.clientPending,
      )).catch(fail),
    (options.downLimit
      ? _limitedPump(target, client, options.down, ends, options.downLimit)
      : _pump(target, client, options.down, ends)).catch(fail),
  ]);
}

/**
 * The runtime's own relay when both ends support it and nothing is in
 * flight on the client (BIND hands over a pending read: the loops run then).
 */
function _trySplice(
  client: Connection,
  target: Connection,
  options: RelayOptions,
): Promise<unknown> | null {
  // The runtime's relay cannot pace its writes: a limited session takes the
  // loops.
  if (
    !client.splice || options.clientPending || options.upLimit ||
    options.downLimit
  ) return null;
  const prefix = options.clientPrefix;
  if (prefix && prefix.length > 0) {
    // Forwarded first, then the runtime takes over.
    return writeAll(target, prefix).then(() => {
      options.up.bytes += prefix.length;
      return client.splice!(target, options) ??
        _loops(client, target, { ...options, clientPrefix: undefined });
    });
  }
  return client.splice(target, options);
}

/**
 * Writes all of `bytes`, however many calls that takes.
 *
 * @param conn Where to write.
 * @param bytes What to write.
 */
export async function writeAll(
  conn: Connection,
  bytes: Uint8Array,
): Promise<void> {
  let written = await conn.write(bytes);
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

async function _pump(
  source: Connection,
  sink: Connection,
  counter: ByteCounter,
  ends: { count: number },
  prefix?: Uint8Array,
  pending?: PendingRead,
): Promise<void> {
  if (prefix && prefix.length > 0) {
    await writeAll(sink, prefix);
    counter.bytes += prefix.length;
  }
  let buffer = pending?.buffer ?? new Uint8Array(_MIN_BUFFER);
  let smallReads = 0;
  let n = pending ? await pending.result : await source.read(buffer);
  while (n !== null) {
    await writeAll(sink, n === buffer.length ? buffer : buffer.subarray(0, n));
    counter.bytes += n;
    if (n === buffer.length) {
      smallReads = 0;
      if (buffer.length < _MAX_BUFFER) {
        buffer = new Uint8Array(buffer.length * 4);
      }
    } else if (buffer.length > _MIN_BUFFER && n <= _MIN_BUFFER) {
      // Traffic dropped: give the big buffer back so an idle connection holds
      // only a small one while it waits.
      if (++smallReads >= _SHRINK_AFTER) {
        buffer = new Uint8Array(_MIN_BUFFER);
        smallReads = 0;
      }
    }
    n = await source.read(buffer);
  }
  // When the other direction has ended too, the relay closes both sockets
  // next, and close() sends the FIN: a shutdown() here would be a wasted
  // system call on every short-lived connection.
  if (++ends.count === 2) return;
  try {
    // closeWrite() returns a promise: a socket closed meanwhile rejects it,
    // and an unawaited rejection would take the whole process down.
    await sink.closeWrite();
  } catch {
    // The sink is already closed or reset; the other direction will notice.
  }
}

/**
 * The pump of a direction with a bandwidth limit: each read is paid for
 * before it is written, and the buffer holds at most an eighth of a
 * second's worth, so a wait is short and the pacing smooth. Kept apart from
 * {@linkcode _pump} so the unlimited path pays nothing for it.
 */
async function _limitedPump(
  source: Connection,
  sink: Connection,
  counter: ByteCounter,
  ends: { count: number },
  limit: RateLimit,
  prefix?: Uint8Array,
  pending?: PendingRead,
): Promise<void> {
  if (prefix && prefix.length > 0) {
    await _pace(limit.consume(prefix.length));
    await writeAll(sink, prefix);
    counter.bytes += prefix.length;
  }
  const size = Math.max(
    _MIN_BUFFER,
    Math.min(_MAX_BUFFER, Math.floor(limit.rate / 8)),
  );
  const buffer = new Uint8Array(size);
  let n = pending ? await pending.result : null;
  let chunk = pending ? pending.buffer : buffer;
  if (!pending) n = await source.read(buffer);
  while (n !== null) {
    await _pace(limit.consume(n));
    await writeAll(sink, chunk.subarray(0, n));
    counter.bytes += n;
    chunk = buffer;
    n = await source.read(buffer);
  }
  if (++ends.count === 2) return;
  try {
    await sink.closeWrite();
  } catch {
    // As in _pump: the other direction will notice.
  }
}

function _pace(ms: number): Promise<void> | void {
  if (ms <= 0) return;
  return new Promise((resolve) => setTimeout(resolve, ms));
}
