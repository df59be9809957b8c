/**
 * The outbound side of a request: where its connection, its BIND listener or
 * its UDP datagrams go. Chosen per request: direct (resolve, check the rules
 * per address, dial) or an upstream proxy chain that receives the name
 * itself (`src/outbound/route.ts` chooses).
 *
 * @module
 */

import type { SocksAddress } from "../protocol/address.ts";
import type { RuleRequest } from "../policy/ruleset.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";

/** What an outbound route is asked for. */
export interface OutboundRequest {
  /** The request as rules see it (its destination is the target). */
  rule: RuleRequest;
  /** The server address the client's connection reached. */
  local: NetAddress;
  /**
   * The upstream chain for this request (proxy URLs such as
   * `socks5://user:pass@host:port`, first hop first), as the rules chose
   * it: absent means the server's default route (`--upstream`, else
   * direct), empty means direct.
   */
  via?: readonly string[];
  /**
   * The source address for this request's outbound connections, as the
   * rules chose it; absent means the server's `--outbound-address`.
   */
  source?: string;
}

/** A BIND in progress: listening, waiting for the expected peer. */
export interface PendingBind {
  /** Where the peer must connect (BIND's first reply). */
  readonly bound: NetAddress;
  /**
   * Waits for the permitted peer; others are refused and waiting goes on.
   *
   * @param signal Ends the wait; the promise rejects with its reason.
   * @returns The peer's connection and address.
   */
  accept(signal: AbortSignal): Promise<{ conn: Connection; peer: NetAddress }>;
  /** Stops listening. */
  close(): void;
}

/** Every reason a datagram is dropped; `udp_dropped_total` has each from the start. */
export const UDP_DROP_REASONS = [
  "ruleset",
  "unresolvable",
  "send_failed",
  "unsolicited",
  "malformed",
  "fragment",
  "reassembly",
  "foreign_source",
  "oversized",
] as const;

/** Why a datagram was not relayed (a label of `udp_dropped_total`). */
export type UdpDropReason = (typeof UDP_DROP_REASONS)[number];

/** Where the answers of a UDP association go. */
export interface UdpSink {
  /**
   * Hands one answer to the client side.
   *
   * @param data The payload.
   * @param from Its sender.
   */
  deliver(data: Uint8Array, from: NetAddress): Promise<void>;
  /**
   * Counts a datagram the outbound side dropped.
   *
   * @param reason Why.
   */
  drop(reason: UdpDropReason): void;
}

/** The outbound half of a UDP association. */
export interface OutboundUdp {
  /**
   * Sends one payload to a destination, after the rules and resolution.
   *
   * @param data The payload.
   * @param destination As the client's datagram named it.
   * @returns `null` when sent, or why it was dropped.
   */
  send(
    data: Uint8Array,
    destination: SocksAddress,
  ): Promise<UdpDropReason | null>;
  /** Closes every socket and waits for the receive loops to end. */
  close(): Promise<void>;
}

/** One way out. */
export interface Outbound {
  /**
   * Opens a TCP connection to the request's destination.
   *
   * @param request The request.
   * @param signal The connect deadline, or the session's end.
   * @returns The connection; its `localAddr` is BND.ADDR/BND.PORT.
   * @throws {SocksError} REP 02 when the rules refuse every address, 04
   * when the name does not resolve.
   * @throws {NetError} When every attempt failed.
   */
  connect(request: OutboundRequest, signal: AbortSignal): Promise<Connection>;
  /**
   * Starts listening for the request's expected peer (DST.ADDR, or anyone
   * when it is all zeros).
   *
   * @param request The request.
   * @param signal Bounds the resolution of the expected peer.
   * @returns The pending BIND.
   */
  bind(request: OutboundRequest, signal: AbortSignal): Promise<PendingBind>;
  /**
   * Opens the outbound half of a UDP association.
   *
   * @param request The association's request.
   * @param sink Where answers go.
   * @returns The outbound half.
   */
  udp(request: OutboundRequest, sink: UdpSink): Promise<OutboundUdp>;
}
