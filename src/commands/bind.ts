/**
 * BIND (RFC 1928 §4): listen for one incoming connection from the expected
 * peer, reply twice, relay.
 *
 * @module
 */

import { SocksError } from "../errors.ts";
import { closeQuietly } from "../io/close_quietly.ts";
import { type PendingRead, relay } from "../io/relay.ts";
import { formatHostPort, toSocksAddress } from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import { canonicalIp, isUnspecified } from "../protocol/ip.ts";
import type { Session } from "../session.ts";

/** Bytes a client may send before the peer arrives; they are forwarded. */
const _MAX_EARLY_BYTES = 64 * 1024;

/**
 * Handles a BIND request.
 *
 * The listening socket is bound on the configured external address, or else
 * on the address the client reached (the address the peer can reach too in
 * the usual FTP-style use). The first reply carries it. One connection is
 * accepted: when DST.ADDR is not all zeros only from DST.ADDR (a name is
 * resolved and any of its addresses may connect); connections from anywhere
 * else are closed and waiting goes on. The second reply carries the peer's
 * address, then data is relayed.
 *
 * While waiting, the client connection is watched: if the client leaves,
 * the listener is closed at once rather than at the BIND deadline.
 *
 * @param session The session, with its request read.
 */
export async function handleBind(session: Session): Promise<void> {
  const { server, destination, signal } = session;
  session.deadline(
    server.timeouts.connect,
    () => session.abortWithTimeout("BIND resolution"),
  );
  const expected = isUnspecified(destination!.host)
    ? null
    : new Set(await session.resolve(destination!));
  const listener = session.own(Deno.listen({
    hostname: server.externalAddress ?? canonicalIp(session.local.hostname),
    port: 0,
  }));
  signal.addEventListener("abort", () => closeQuietly(listener), {
    once: true,
  });
  const bound = listener.addr;
  await session.sendReply(
    Reply.SUCCEEDED,
    toSocksAddress(bound.hostname, bound.port),
    false,
  );
  session.deadline(
    server.timeouts.bind,
    () => session.abortWithTimeout("BIND accept"),
  );

  const early: Uint8Array[] = session.leftover.length > 0
    ? [session.leftover]
    : [];
  let earlyBytes = session.leftover.length;
  const buffer = new Uint8Array(2048);
  let reading = session.conn.read(buffer);
  let accepting = listener.accept();
  let peer: Deno.TcpConn | null = null;
  while (peer === null) {
    const event = await Promise.race([
      accepting.then((conn) => ({ conn, n: 0 })),
      reading.then((n) => ({ conn: null, n })),
    ]).catch((error) => {
      throw signal.aborted ? signal.reason : error;
    });
    if (event.conn) {
      const candidate = event.conn;
      const from = canonicalIp(candidate.remoteAddr.hostname);
      const allowed = (expected === null || expected.has(from)) &&
        await server.ruleset.permitsAddress(session.ruleRequest, from);
      if (allowed) {
        peer = session.own(candidate);
        try {
          // Relayed bytes go out as they come, not held back by Nagle.
          peer.setNoDelay(true);
        } catch {
          // Reset already: the relay's first read or write reports it.
        }
      } else {
        server.logger.log("warn", "bind peer refused", {
          client: formatHostPort(session.client.hostname, session.client.port),
          peer: formatHostPort(from, candidate.remoteAddr.port),
        });
        closeQuietly(candidate);
        accepting = listener.accept();
      }
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
      reading = session.conn.read(buffer);
    }
  }
  closeQuietly(listener);
  const remote = peer.remoteAddr;
  await session.sendReply(
    Reply.SUCCEEDED,
    toSocksAddress(remote.hostname, remote.port),
  );
  session.deadline(server.timeouts.idle);
  const pending: PendingRead = { result: reading, buffer };
  return relay(session.conn, peer, {
    up: session.up,
    down: session.down,
    clientPrefix: _concat(early, earlyBytes),
    clientPending: pending,
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
