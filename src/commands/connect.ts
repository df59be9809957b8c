/**
 * CONNECT (RFC 1928 §4): dial the destination, reply with the outbound
 * socket's address, relay.
 *
 * @module
 */

import { relay } from "../io/relay.ts";
import { dialAny } from "../net/dial_any.ts";
import { toSocksAddress } from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import type { Session } from "../session.ts";

/**
 * Handles a CONNECT request.
 *
 * The success reply is sent only after the outbound connection is
 * established, and carries its real local address (BND.ADDR/BND.PORT). Name
 * resolution and every connection attempt share the connect deadline; every
 * resolved address is tried (both families, interleaved) before giving up.
 *
 * @param session The session, with its request read.
 */
export async function handleConnect(session: Session): Promise<void> {
  const { server, destination } = session;
  session.deadline(
    server.timeouts.connect,
    () => session.abortWithTimeout("Connect"),
  );
  const addresses = await session.resolve(destination!);
  const target = session.own(
    await dialAny(server.dialer, addresses, destination!.port, {
      signal: session.signal,
    }),
  );
  const local = target.localAddr as Deno.NetAddr;
  await session.sendReply(
    Reply.SUCCEEDED,
    toSocksAddress(local.hostname, local.port),
  );
  session.deadline(server.timeouts.idle);
  return relay(session.conn, target, {
    up: session.up,
    down: session.down,
    clientPrefix: session.leftover,
  });
}
