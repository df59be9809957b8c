/**
 * The upstream route: through a chain of proxies (SOCKS5, SOCKS4a, SOCKS4,
 * HTTP CONNECT). The first hop is dialed directly; each hop is then asked to
 * CONNECT to the next, and the last one to the destination. Names go to the
 * upstream unresolved (remote DNS), except to a plain SOCKS4 hop, which can
 * only carry IPv4: for it the name is resolved here and the rules see every
 * address. BIND and UDP ASSOCIATE need a SOCKS5 last hop.
 *
 * @module
 */

import { bind as socks5Bind } from "../client/bind.ts";
import { connect as socks5Connect } from "../client/connect.ts";
import type { Destination } from "../client/handshake.ts";
import { httpConnect } from "../client/http_tunnel.ts";
import { socks4Connect } from "../client/socks4_tunnel.ts";
import {
  type Socks5UdpAssociation,
  udpAssociate,
} from "../client/udp_associate.ts";
import { closeQuietly } from "../core/close_quietly.ts";
import { formatAddress, type SocksAddress } from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import { canonicalIp, ipFamily, isUnspecified } from "../protocol/ip.ts";
import type { RuleRequest, Ruleset } from "../policy/ruleset.ts";
import type {
  Connection,
  DatagramOptions,
  NetAddress,
  Network,
} from "../runtime/transport.ts";
import { dialFrom } from "./dial_any.ts";
import type {
  Outbound,
  OutboundRequest,
  OutboundUdp,
  PendingBind,
  UdpDropReason,
  UdpSink,
} from "./outbound.ts";
import { type Resolver, resolveWithin } from "./resolver.ts";
import type { UpstreamHop } from "./upstream_url.ts";

/** Options of {@linkcode UpstreamOutbound}. */
export interface UpstreamOutboundOptions {
  /** Sockets: the first hop is dialed with it, UDP sockets bound with it. */
  network: Network;
  /** Resolves the first hop's name, and destinations for a SOCKS4 hop. */
  resolver: Resolver;
  /** Checked on IP-literal destinations and on BIND peers. */
  ruleset: Ruleset;
  /**
   * Source address for the connection to the first hop; `null` lets the
   * system choose. A request's own `source` wins.
   * @default {null}
   */
  sourceAddress?: string | null;
}

/** Goes out through a fixed chain of upstream proxies. */
export class UpstreamOutbound implements Outbound {
  /** The hops, first hop first. */
  readonly chain: readonly UpstreamHop[];
  #options: UpstreamOutboundOptions;

  /**
   * Creates the route.
   *
   * @param chain At least one hop, first hop first.
   * @param options Network, resolver, rules.
   * @throws {RangeError} For an empty chain.
   */
  constructor(chain: readonly UpstreamHop[], options: UpstreamOutboundOptions) {
    if (chain.length === 0) {
      throw new RangeError("An upstream chain needs a hop");
    }
    this.chain = chain;
    this.#options = options;
  }

  /** Dials the chain and asks its last hop to CONNECT to the destination. */
  async connect(
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<Connection> {
    const last = this.chain[this.chain.length - 1]!;
    const target = await this.#target(
      request.rule,
      request.rule.destination,
      last,
      signal,
    );
    const conn = await this.#dialChain(request, signal);
    try {
      await this.#tunnel(last, conn, target, signal);
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
    return conn;
  }

  /** Asks a SOCKS5 last hop to BIND. */
  async bind(
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<PendingBind> {
    const last = this.#socks5Last("BIND");
    const { destination } = request.rule;
    const conn = await this.#dialChain(request, signal);
    try {
      const binding = await socks5Bind(
        { host: destination.host, port: destination.port },
        { ...this.#hopOptions(last, conn), signal },
      );
      return new _UpstreamBind(
        binding.conn,
        _bound(binding.bound, last, conn),
        binding.peer,
        request.rule,
        this.#options.ruleset,
      );
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
  }

  /** Opens a UDP association with a SOCKS5 last hop. */
  async udp(request: OutboundRequest, sink: UdpSink): Promise<OutboundUdp> {
    const last = this.#socks5Last("UDP ASSOCIATE");
    // The association's control connection lives as long as the client's,
    // and `udp()` takes no signal: a fixed bound on its setup keeps a dead
    // upstream from holding the session.
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new DOMException("Upstream UDP setup timed out", "TimeoutError"),
        ),
      _UDP_SETUP_MS,
    );
    const signal = controller.signal;
    let association: Socks5UdpAssociation;
    try {
      const conn = await this.#dialChain(request, signal);
      try {
        association = await udpAssociate({
          ...this.#hopOptions(last, conn),
          signal,
        });
      } catch (error) {
        closeQuietly(conn);
        throw error;
      }
    } finally {
      clearTimeout(timer);
    }
    return new _UpstreamUdp(association, request.rule, sink, this.#options);
  }

  /** The last hop, when it speaks SOCKS5; REP X'07' otherwise. */
  #socks5Last(command: string): UpstreamHop {
    const last = this.chain[this.chain.length - 1]!;
    if (last.protocol !== "socks5") {
      throw new SocksError(
        Reply.COMMAND_NOT_SUPPORTED,
        `${command} needs a SOCKS5 last hop; ${last.display} speaks ${last.protocol}`,
      );
    }
    return last;
  }

  /**
   * What the last hop is asked to connect to: the destination as given, or
   * for a SOCKS4 hop a permitted IPv4 address of it. IP literals are
   * checked against the rules here, since no resolution follows.
   */
  async #target(
    rule: RuleRequest,
    destination: SocksAddress,
    hop: UpstreamHop,
    signal: AbortSignal,
  ): Promise<Destination> {
    const { ruleset, resolver } = this.#options;
    const literal = ipFamily(destination.host) !== null;
    if (hop.protocol !== "socks4" || literal) {
      if (literal && !(await ruleset.permitsAddress(rule, destination.host))) {
        throw _refused(destination);
      }
      return { host: destination.host, port: destination.port };
    }
    const addresses = await resolveWithin(resolver, destination.host, signal);
    for (const address of addresses.map(canonicalIp)) {
      if (
        ipFamily(address) === 4 && await ruleset.permitsAddress(rule, address)
      ) {
        return { host: address, port: destination.port };
      }
    }
    throw _refused(destination);
  }

  /**
   * Opens a connection to the first hop and tunnels hop by hop, so the
   * connection it returns talks to the last hop.
   */
  async #dialChain(
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<Connection> {
    const first = this.chain[0]!;
    const { network, resolver } = this.#options;
    const addresses = ipFamily(first.host) !== null
      ? [canonicalIp(first.host)]
      : (await resolveWithin(resolver, first.host, signal)).map(canonicalIp);
    const conn = await dialFrom(
      network,
      addresses,
      first.port,
      request.source ?? this.#options.sourceAddress ?? null,
      `Upstream ${first.display}`,
      signal,
    );
    try {
      for (let i = 1; i < this.chain.length; i++) {
        const next = this.chain[i]!;
        const hop = this.chain[i - 1]!;
        const target = hop.protocol === "socks4" && ipFamily(next.host) === null
          ? await this.#ipv4Of(next.host, signal)
          : { host: next.host, port: next.port };
        await this.#tunnel(hop, conn, { ...target, port: next.port }, signal);
      }
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
    return conn;
  }

  async #ipv4Of(host: string, signal: AbortSignal): Promise<Destination> {
    const addresses = await resolveWithin(this.#options.resolver, host, signal);
    const v4 = addresses.map(canonicalIp).find((a) => ipFamily(a) === 4);
    if (v4 === undefined) {
      throw new SocksError(
        Reply.ADDRESS_TYPE_NOT_SUPPORTED,
        `SOCKS4 cannot reach ${JSON.stringify(host)}: it has no IPv4 address`,
      );
    }
    return { host: v4, port: 0 };
  }

  /** Asks `hop`, over `conn`, to CONNECT to `target`. */
  async #tunnel(
    hop: UpstreamHop,
    conn: Connection,
    target: Destination,
    signal: AbortSignal,
  ): Promise<void> {
    const onAbort = () => closeQuietly(conn);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      switch (hop.protocol) {
        case "socks5":
          await socks5Connect(target, {
            ...this.#hopOptions(hop, conn),
            signal,
          });
          return;
        case "socks4":
        case "socks4a":
          await socks4Connect(conn, target, hop.auth?.username ?? "");
          return;
        case "http":
          await httpConnect(conn, target, hop.auth);
          return;
      }
    } catch (error) {
      throw signal.aborted ? signal.reason : _clamp(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Client options that run a SOCKS5 handshake with `hop` over `conn`. */
  #hopOptions(hop: UpstreamHop, conn: Connection) {
    return {
      proxy: { hostname: hop.host, port: hop.port },
      ...(hop.auth ? { auth: hop.auth } : {}),
      network: _over(conn, this.#options.network),
    };
  }
}

/** How long opening an upstream UDP association may take, in ms. */
const _UDP_SETUP_MS = 10_000;

/**
 * A network whose `connect` hands out an already open connection: the
 * project's SOCKS5 client then runs its handshake over a tunnel.
 */
function _over(conn: Connection, network: Network): Network {
  return {
    canBindSource: false,
    connect: () => Promise.resolve(conn),
    listen: (options) => network.listen(options),
    listenDatagram: (options: DatagramOptions) =>
      network.listenDatagram(options),
  };
}

/** An upstream's REP beyond RFC 1928's table is a general failure. */
function _clamp(error: unknown): unknown {
  if (
    error instanceof SocksError &&
    error.reply > Reply.ADDRESS_TYPE_NOT_SUPPORTED
  ) {
    return new SocksError(Reply.GENERAL_FAILURE, error.message, {
      cause: error,
    });
  }
  return error;
}

function _refused(destination: SocksAddress): SocksError {
  return new SocksError(
    Reply.NOT_ALLOWED,
    `Destination ${formatAddress(destination)} is not allowed by the ruleset`,
  );
}

/**
 * BIND's first reply address. An upstream listening on all addresses is
 * reached at the last hop's address (when it is a literal) or else at the
 * address this connection reached.
 */
function _bound(
  bound: SocksAddress,
  last: UpstreamHop,
  conn: Connection,
): NetAddress {
  if (!isUnspecified(bound.host)) {
    return { hostname: bound.host, port: bound.port };
  }
  const host = ipFamily(last.host) !== null
    ? last.host
    : conn.remoteAddr.hostname;
  return { hostname: canonicalIp(host), port: bound.port };
}

class _UpstreamBind implements PendingBind {
  readonly bound: NetAddress;
  #conn: Connection;
  #peer: Promise<SocksAddress>;
  #rule: RuleRequest;
  #ruleset: Ruleset;
  #accepted = false;

  constructor(
    conn: Connection,
    bound: NetAddress,
    peer: Promise<SocksAddress>,
    rule: RuleRequest,
    ruleset: Ruleset,
  ) {
    this.#conn = conn;
    this.bound = bound;
    this.#peer = peer;
    this.#rule = rule;
    this.#ruleset = ruleset;
  }

  /**
   * Waits for the upstream's second reply. The upstream accepts one peer
   * only, so a peer the rules refuse ends the BIND (REP X'02').
   */
  async accept(
    signal: AbortSignal,
  ): Promise<{ conn: Connection; peer: NetAddress }> {
    const onAbort = () => closeQuietly(this.#conn);
    signal.addEventListener("abort", onAbort, { once: true });
    let peer: SocksAddress;
    try {
      peer = await this.#peer;
    } catch (error) {
      throw signal.aborted ? signal.reason : _clamp(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    const host = ipFamily(peer.host) !== null
      ? canonicalIp(peer.host)
      : peer.host;
    if (!(await this.#ruleset.permitsAddress(this.#rule, host))) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `BIND peer ${formatAddress(peer)} is not allowed by the ruleset`,
      );
    }
    this.#accepted = true;
    return { conn: this.#conn, peer: { hostname: host, port: peer.port } };
  }

  /** Closes the control connection unless it now carries the peer's bytes. */
  close(): void {
    if (!this.#accepted) closeQuietly(this.#conn);
  }
}

class _UpstreamUdp implements OutboundUdp {
  #association: Socks5UdpAssociation;
  #rule: RuleRequest;
  #options: UpstreamOutboundOptions;
  #loop: Promise<void>;
  #watch: Promise<void>;

  constructor(
    association: Socks5UdpAssociation,
    rule: RuleRequest,
    sink: UdpSink,
    options: UpstreamOutboundOptions,
  ) {
    this.#association = association;
    this.#rule = rule;
    this.#options = options;
    this.#loop = this.#receive(sink);
    this.#watch = this.#watchControl();
  }

  /** Names go to the upstream as they are; literals meet the rules first. */
  async send(
    data: Uint8Array,
    destination: SocksAddress,
  ): Promise<UdpDropReason | null> {
    if (ipFamily(destination.host) !== null) {
      const rule = { ...this.#rule, destination };
      const address = canonicalIp(destination.host);
      if (!(await this.#options.ruleset.permitsAddress(rule, address))) {
        return "ruleset";
      }
    }
    try {
      await this.#association.send(data, destination);
    } catch {
      return "send_failed";
    }
    return null;
  }

  async close(): Promise<void> {
    this.#association.close();
    await Promise.all([this.#loop, this.#watch]);
  }

  async #receive(sink: UdpSink): Promise<void> {
    for (;;) {
      let datagram;
      try {
        datagram = await this.#association.receive();
      } catch (error) {
        if (error instanceof SocksError) {
          sink.drop("malformed");
          continue;
        }
        return; // Closed: the association is over.
      }
      await sink.deliver(datagram.data, {
        hostname: ipFamily(datagram.from.host) !== null
          ? canonicalIp(datagram.from.host)
          : datagram.from.host,
        port: datagram.from.port,
      });
    }
  }

  /**
   * The upstream ends the association by closing its control connection;
   * the local socket is closed then, which ends the receive loop.
   */
  async #watchControl(): Promise<void> {
    const buffer = new Uint8Array(256);
    try {
      while ((await this.#association.control.read(buffer)) !== null) {
        // RFC 1928 gives data on the control connection no meaning.
      }
    } catch {
      // Reset or closed.
    }
    this.#association.close();
  }
}
