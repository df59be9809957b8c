/**
 * The direct route: resolve the destination after the rules have seen the
 * name, check the rules again on every resolved address, then dial (Happy
 * Eyeballs), listen (BIND) or send (UDP) from this host.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import type { Logger } from "../observability/logger.ts";
import {
  formatAddress,
  formatHostPort,
  type SocksAddress,
} from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import { SocksError } from "../protocol/errors.ts";
import {
  canonicalIp,
  type IpFamily,
  ipFamily,
  isUnspecified,
} from "../protocol/ip.ts";
import type { RuleRequest, Ruleset } from "../policy/ruleset.ts";
import type {
  Connection,
  DatagramSocket,
  Listener,
  NetAddress,
  Network,
} from "../runtime/transport.ts";
import { dialFrom } from "./dial_any.ts";
import { listenDatagramIn, type PortRange } from "./port_range.ts";
import type {
  Outbound,
  OutboundRequest,
  OutboundUdp,
  PendingBind,
  UdpDropReason,
  UdpSink,
} from "./outbound.ts";
import { type Resolver, resolveWithin } from "./resolver.ts";

/** Options of {@linkcode DirectOutbound}. */
export interface DirectOutboundOptions {
  /** Sockets. */
  network: Network;
  /** Name resolution. */
  resolver: Resolver;
  /** Checked on every resolved address, BIND peer and UDP destination. */
  ruleset: Ruleset;
  /** Logs refused BIND peers. */
  logger: Logger;
  /**
   * Address for BIND listeners; `null` means the address the client's
   * connection reached.
   */
  externalAddress: string | null;
  /**
   * How long one UDP datagram's name lookup may take, in ms (0: 10 s).
   * @default {10000}
   */
  udpLookupTimeout?: number;
  /**
   * Source address for outbound TCP connections; `null` lets the system
   * choose. A request's own `source` wins. Only addresses of its family
   * are dialed.
   * @default {null}
   */
  sourceAddress?: string | null;
  /**
   * Ports for the sending UDP sockets; `null` lets the system pick.
   * @default {null}
   */
  udpPortRange?: PortRange | null;
}

/** Destinations a client may receive answers from, per association. */
const _MAX_PEERS = 4096;
/** Resolved names kept per association, and for how long. */
const _MAX_NAMES = 256;
const _NAME_TTL_MS = 60_000;

/** Dials, listens and sends from this host. */
export class DirectOutbound implements Outbound {
  #options: DirectOutboundOptions;

  /**
   * Creates the route.
   *
   * @param options Network, resolver, rules and addresses.
   */
  constructor(options: DirectOutboundOptions) {
    this.#options = options;
  }

  /** Resolves, checks every address, dials the permitted ones. */
  async connect(
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<Connection> {
    const { destination } = request.rule;
    const addresses = await this.#permitted(request.rule, destination, signal);
    return dialFrom(
      this.#options.network,
      addresses,
      destination.port,
      request.source ?? this.#options.sourceAddress ?? null,
      `Destination ${formatAddress(destination)}`,
      signal,
    );
  }

  /** Listens on the external address or the one the client reached. */
  async bind(
    request: OutboundRequest,
    signal: AbortSignal,
  ): Promise<PendingBind> {
    const { destination } = request.rule;
    const expected = isUnspecified(destination.host)
      ? null
      : new Set(await this.#permitted(request.rule, destination, signal));
    const listener = await this.#options.network.listen({
      hostname: this.#options.externalAddress ??
        canonicalIp(request.local.hostname),
      port: 0,
    });
    return new _DirectBind(listener, expected, request.rule, this.#options);
  }

  /** Opens the sending sockets lazily, one per address family. */
  udp(request: OutboundRequest, sink: UdpSink): Promise<OutboundUdp> {
    return Promise.resolve(new _DirectUdp(request.rule, sink, this.#options));
  }

  /**
   * The addresses of a destination the rules permit.
   *
   * @returns Canonical IP literals, best first.
   * @throws {SocksError} REP X'04' when the name does not resolve, X'02'
   * when the ruleset refuses every address.
   */
  async #permitted(
    rule: RuleRequest,
    destination: SocksAddress,
    signal: AbortSignal,
  ): Promise<string[]> {
    const host = destination.host;
    const addresses = ipFamily(host) !== null
      ? [canonicalIp(host)]
      : (await resolveWithin(this.#options.resolver, host, signal)).map(
        canonicalIp,
      );
    const permitted: string[] = [];
    for (const address of addresses) {
      if (await this.#options.ruleset.permitsAddress(rule, address)) {
        permitted.push(address);
      }
    }
    if (permitted.length === 0) {
      throw new SocksError(
        Reply.NOT_ALLOWED,
        `Destination ${
          formatAddress(destination)
        } is not allowed by the ruleset`,
      );
    }
    return permitted;
  }
}

class _DirectBind implements PendingBind {
  readonly bound: NetAddress;
  #listener: Listener;
  #expected: Set<string> | null;
  #rule: RuleRequest;
  #options: DirectOutboundOptions;

  constructor(
    listener: Listener,
    expected: Set<string> | null,
    rule: RuleRequest,
    options: DirectOutboundOptions,
  ) {
    this.#listener = listener;
    this.bound = listener.addr;
    this.#expected = expected;
    this.#rule = rule;
    this.#options = options;
  }

  async accept(
    signal: AbortSignal,
  ): Promise<{ conn: Connection; peer: NetAddress }> {
    const onAbort = () => closeQuietly(this.#listener);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        let candidate: Connection;
        try {
          candidate = await this.#listener.accept();
        } catch (error) {
          throw signal.aborted ? signal.reason : error;
        }
        const from = canonicalIp(candidate.remoteAddr.hostname);
        const allowed = (this.#expected === null || this.#expected.has(from)) &&
          await this.#options.ruleset.permitsAddress(this.#rule, from);
        if (allowed) {
          return {
            conn: candidate,
            peer: { hostname: from, port: candidate.remoteAddr.port },
          };
        }
        this.#options.logger.log("warn", "bind peer refused", {
          client: formatHostPort(
            this.#rule.client.hostname,
            this.#rule.client.port,
          ),
          peer: formatHostPort(from, candidate.remoteAddr.port),
        });
        closeQuietly(candidate);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  close(): void {
    closeQuietly(this.#listener);
  }
}

class _DirectUdp implements OutboundUdp {
  #rule: RuleRequest;
  #sink: UdpSink;
  #options: DirectOutboundOptions;
  #sockets = new Map<IpFamily, Promise<DatagramSocket>>();
  #open: DatagramSocket[] = [];
  #loops: Promise<void>[] = [];
  #peers = new Set<string>();
  #names = new Map<string, { addresses: string[]; expires: number }>();
  #closed = false;

  constructor(
    rule: RuleRequest,
    sink: UdpSink,
    options: DirectOutboundOptions,
  ) {
    this.#rule = rule;
    this.#sink = sink;
    this.#options = options;
  }

  async send(
    data: Uint8Array,
    destination: SocksAddress,
  ): Promise<UdpDropReason | null> {
    const target = await this.#permittedTarget(destination);
    if (typeof target !== "string") return target.drop;
    let socket: DatagramSocket;
    try {
      socket = await this.#socketFor(ipFamily(target)!);
      await socket.send(data, { hostname: target, port: destination.port });
    } catch {
      return "send_failed";
    }
    this.#remember(`${target}|${destination.port}`);
    return null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const socket of this.#open) closeQuietly(socket);
    // A socket still being opened is closed when it arrives.
    await Promise.allSettled([...this.#sockets.values()]);
    await Promise.all(this.#loops);
  }

  async #receive(socket: DatagramSocket): Promise<void> {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let data: Uint8Array;
      let from: NetAddress;
      try {
        [data, from] = await socket.receive(buffer);
      } catch {
        return; // Closed: the association is over.
      }
      const sender = canonicalIp(from.hostname);
      if (!this.#peers.has(`${sender}|${from.port}`)) {
        this.#sink.drop("unsolicited");
        continue;
      }
      await this.#sink.deliver(data, { hostname: sender, port: from.port });
    }
  }

  /** The first permitted address of a destination, or why there is none. */
  async #permittedTarget(
    destination: SocksAddress,
  ): Promise<string | { drop: UdpDropReason }> {
    const { ruleset } = this.#options;
    const rule = { ...this.#rule, destination };
    let addresses: string[];
    try {
      addresses = ipFamily(destination.host) !== null
        ? [canonicalIp(destination.host)]
        : await this.#resolve(destination.host);
    } catch {
      return { drop: "unresolvable" };
    }
    for (const address of addresses) {
      if (await ruleset.permitsAddress(rule, address)) return address;
    }
    return { drop: "ruleset" };
  }

  async #resolve(name: string): Promise<string[]> {
    const now = Date.now();
    const cached = this.#names.get(name);
    if (cached && cached.expires > now) return cached.addresses;
    // One datagram's lookup may not hold up the association for longer than
    // a CONNECT's lookup may.
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new DOMException("Resolution timed out", "TimeoutError"),
        ),
      this.#options.udpLookupTimeout || 10_000,
    );
    let addresses: string[];
    try {
      addresses = (await resolveWithin(
        this.#options.resolver,
        name,
        controller.signal,
      )).map(canonicalIp);
    } finally {
      clearTimeout(timer);
    }
    if (this.#names.size >= _MAX_NAMES) {
      this.#names.delete(this.#names.keys().next().value!);
    }
    this.#names.set(name, { addresses, expires: now + _NAME_TTL_MS });
    return addresses;
  }

  #remember(peer: string): void {
    if (this.#peers.has(peer)) return;
    if (this.#peers.size >= _MAX_PEERS) {
      this.#peers.delete(this.#peers.values().next().value!);
    }
    this.#peers.add(peer);
  }

  #socketFor(family: IpFamily): Promise<DatagramSocket> {
    let socket = this.#sockets.get(family);
    if (!socket) {
      socket = listenDatagramIn(
        this.#options.network,
        family === 4 ? "0.0.0.0" : "::",
        this.#options.udpPortRange ?? null,
      ).then((opened) => {
        if (this.#closed) {
          closeQuietly(opened);
          throw new Error("Association closed");
        }
        this.#open.push(opened);
        this.#loops.push(this.#receive(opened));
        return opened;
      });
      this.#sockets.set(family, socket);
    }
    return socket;
  }
}
