/**
 * BIND (RFC 1928 §4): listen for one incoming connection from the expected
 * peer, reply twice, relay.
 *
 * @module
 */

import { type PendingRead, relay } from "../core/relay.ts";
import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";
import type { CommandContext } from "./context.ts";

/** Bytes a client may send before the peer arrives; they are forwarded. */
const _MAX_EARLY_BYTES = 64 * 1024;

/**
 * Handles a BIND request.
 *
 * The outbound route listens (direct: on the configured external address,
 * or else on the address the client reached) and the first reply carries
 * that address. One connection is accepted: when DST.ADDR is not all zeros
 * only from DST.ADDR; connections from anywhere else are refused and waiting
 * goes on. The second reply carries the peer's address, then data is
 * relayed.
 *
 * While waiting, the client connection is watched: if the client leaves,
 * the listener is closed at once rather than at the BIND deadline; bytes it
 * sends meanwhile (up to 64 KiB) are forwarded to the peer first.
 *
 * @param context The request, the client and the outbound route.
 */
export async function handleBind(context: CommandContext): Promise<void> {
  const { settings, signal, client } = context;
  context.deadline(
    settings.timeouts.connect,
    () => context.abortWithTimeout("BIND resolution"),
  );
  const pending = context.own(
    await context.outbound.bind(
      {
        rule: context.request,
        local: context.local,
        via: context.request.via,
      },
      signal,
    ),
  );
  // Behind NAT the peer must be told the public address, not the bound one.
  const advertised = settings.advertisedAddress;
  await context.responder.interim(
    advertised === null
      ? pending.bound
      : { hostname: advertised, port: pending.bound.port },
  );
  context.deadline(
    settings.timeouts.bind,
    () => context.abortWithTimeout("BIND accept"),
  );

  const early: Uint8Array[] = context.leftover.length > 0
    ? [context.leftover]
    : [];
  let earlyBytes = context.leftover.length;
  const buffer = new Uint8Array(2048);
  let reading = client.read(buffer);
  const accepting = pending.accept(signal);
  let peer: { conn: Connection; peer: NetAddress } | null = null;
  while (peer === null) {
    const event = await Promise.race([
      accepting.then((accepted) => ({ accepted, n: 0 })),
      reading.then((n) => ({ accepted: null, n })),
    ]).catch((error) => {
      throw signal.aborted ? signal.reason : error;
    });
    if (event.accepted) {
      peer = event.accepted;
    } else if (event.n === null) {
      throw new SocksError(
        Reply.GENERAL_FAILURE,
        "Client closed the connection while BIND waited for the peer",
      );
    } else {
      earlyBytes += event.n;
      if (earlyBytes > _MAX_EARLY_BYTES) {
        throw new SocksError(
          Reply.GENERAL_FAILURE,
          `Client sent over ${_MAX_EARLY_BYTES} bytes before the BIND peer connected`,
        );
      }
      early.push(buffer.slice(0, event.n));
      reading = client.read(buffer);
    }
  }
  const conn = context.own(peer.conn);
  pending.close();
  await context.responder.succeed(peer.peer);
  context.deadline(settings.timeouts.idle);
  const inFlight: PendingRead = { result: reading, buffer };
  return relay(client, conn, {
    up: context.up,
    down: context.down,
    upLimit: context.upLimit,
    downLimit: context.downLimit,
    clientPrefix: _concat(early, earlyBytes),
    clientPending: inFlight,
  });
}

function _concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
