/**
 * The prelude: what a listener reads before the front door sniffs the
 * protocol. Today that is the PROXY protocol header, required from the
 * trusted balancers' addresses and refused from everyone else.
 *
 * @module
 */

import type { FrameReader } from "../core/frame_reader.ts";
import { inBlock } from "../policy/destination_policy.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { readProxyHeader } from "../protocol/proxy_protocol.ts";
import type { NetAddress } from "../runtime/transport.ts";

/** A parsed CIDR block (see `parseCidr`). */
export interface CidrBlock {
  /** Network bytes. */
  bytes: Uint8Array;
  /** Prefix length. */
  bits: number;
}

const _V1_PREFIX = Uint8Array.from("PROXY ", (c) => c.charCodeAt(0));

/**
 * Reads the PROXY protocol header when the connection comes from a trusted
 * source, and returns the client the rest of the session stands for.
 *
 * - From a source inside `trusted`, a valid version 1 or 2 header is
 *   required; its source address is the client (for rules, limits and
 *   logs). LOCAL and UNKNOWN headers leave the socket's address.
 * - From any other source, bytes that start like a header are refused: only
 *   a trusted balancer may speak for a client.
 *
 * A refusal throws before anything is written, so the connection is closed
 * without a reply. The caller's handshake deadline bounds the whole read.
 *
 * @param reader The connection's frame reader (the header is consumed).
 * @param remote The socket's peer address.
 * @param trusted Blocks allowed (and required) to send the header; empty
 * turns the prelude off.
 * @returns The client's address.
 * @throws {ProtocolError} For a missing, malformed or untrusted header.
 */
export async function readPrelude(
  reader: FrameReader,
  remote: NetAddress,
  trusted: readonly CidrBlock[],
): Promise<NetAddress> {
  if (trusted.length === 0) return remote;
  if (trusted.some((block) => inBlock(remote.hostname, block))) {
    const header = await readProxyHeader(reader);
    if (header.addresses === null) return remote;
    return { ...header.addresses.source };
  }
  const first = (await reader.peek(1))[0];
  const looksLikeHeader = first === 0x0d ||
    (first === 0x50 &&
      (await reader.peek(_V1_PREFIX.length)).every((b, i) =>
        b === _V1_PREFIX[i]
      ));
  if (looksLikeHeader) {
    throw new ProtocolError(
      `PROXY protocol header from untrusted source ${remote.hostname}`,
    );
  }
  return remote;
}
