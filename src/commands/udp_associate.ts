/**
 * UDP ASSOCIATE (RFC 1928 §7): a UDP relay per association, alive as long as
 * the TCP connection that asked for it.
 *
 * @module
 */

import { closeQuietly } from "../io/close_quietly.ts";
import { resolveWithin } from "../net/resolver.ts";
import { type SocksAddress, toSocksAddress } from "../protocol/address.ts";
import { Reply } from "../protocol/constants.ts";
import { canonicalIp, type IpFamily, ipFamily } from "../protocol/ip.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
} from "../protocol/udp_header.ts";
import type { Session } from "../session.ts";

/** The largest UDP payload IPv4 can carry; a bigger reply cannot be sent. */
const _MAX_UDP_PAYLOAD = 65_507;
/** Destinations a client may receive replies from, per association. */
const _MAX_PEERS = 4096;
/** Resolved names kept per association, and for how long. */
const _MAX_NAMES = 256;
const _NAME_TTL_MS = 60_000;

/**
 * Handles a UDP ASSOCIATE request.
 *
 * A relay socket is bound on the address the client's TCP connection reached
 * (or the configured external address) and named in the reply. Datagrams are
 * accepted only from the client's IP address, and only from the port named
 * in the request when it named one (otherwise the first datagram's port is
 * kept). Each datagram's header is parsed (all address types); FRAG ≠ 0,
 * malformed and refused datagrams are dropped and counted. Payloads go out
 * through one socket per address family; answers are accepted only from
 * destinations the client has sent to, and come back wrapped in a header
 * naming their sender.
 *
 * The association ends when its TCP connection ends (EOF, reset or close)
 * or after the UDP idle timeout; its sockets are closed, so it cannot be used
 * afterwards.
 *
 * @param session The session, with its request read.
 */
export async function handleUdpAssociate(session: Session): Promise<void> {
  const { server } = session;
  const socket = session.own(Deno.listenDatagram({
    transport: "udp",
    hostname: server.externalAddress ?? canonicalIp(session.local.hostname),
    port: 0,
  }));
  const association = new _Association(session, socket);
  const bound = socket.addr as Deno.NetAddr;
  await session.sendReply(
    Reply.SUCCEEDED,
    toSocksAddress(bound.hostname, bound.port),
  );
  session.deadline(server.timeouts.udp);
  server.metrics.adjust("udp_associations_active", 1);
  try {
    await Promise.race([association.run(), _untilClosed(session.conn)]);
  } finally {
    await association.close();
    server.metrics.adjust("udp_associations_active", -1);
  }
}

/** Reads and discards the control connection until it ends. */
async function _untilClosed(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(512);
  try {
    while ((await conn.read(buffer)) !== null) {
      // RFC 1928 gives data on the control connection no meaning.
    }
  } catch {
    // Reset or closed: the association ends either way.
  }
}

class _Association {
  #session: Session;
  #relay: Deno.DatagramConn;
  #clientIp: string;
  #clientPort: number | null;
  #outbound = new Map<IpFamily, Deno.DatagramConn>();
  #peers = new Set<string>();
  #names = new Map<string, { addresses: string[]; expires: number }>();
  #loops: Promise<void>[] = [];

  constructor(session: Session, relay: Deno.DatagramConn) {
    this.#session = session;
    this.#relay = relay;
    this.#clientIp = canonicalIp(session.client.hostname);
    // The request's DST.PORT is the port the client will send from, when it
    // knows it; zero means "not known yet".
    const port = session.destination!.port;
    this.#clientPort = port === 0 ? null : port;
  }

  /** Relays until the relay socket is closed. */
  run(): Promise<void> {
    const loop = this.#fromClient();
    this.#loops.push(loop);
    return loop;
  }

  /** Closes every socket and waits for the receive loops to finish. */
  async close(): Promise<void> {
    closeQuietly(this.#relay);
    for (const socket of this.#outbound.values()) closeQuietly(socket);
    await Promise.all(this.#loops);
  }

  #drop(reason: string): void {
    this.#session.server.metrics.count("udp_dropped_total", 1, reason);
  }

  async #fromClient(): Promise<void> {
    const { server } = this.#session;
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [bytes, addr] = await this.#relay.receive(buffer);
        data = bytes;
        from = addr as Deno.NetAddr;
      } catch {
        return; // The relay socket was closed: the association is over.
      }
      if (canonicalIp(from.hostname) !== this.#clientIp) {
        this.#drop("foreign_source");
        continue;
      }
      if (this.#clientPort === null) this.#clientPort = from.port;
      else if (from.port !== this.#clientPort) {
        this.#drop("foreign_source");
        continue;
      }
      let datagram;
      try {
        datagram = decodeUdpDatagram(data);
      } catch {
        this.#drop("malformed");
        continue;
      }
      if (datagram.fragment !== 0) {
        this.#drop("fragment");
        continue;
      }
      const target = await this.#permittedTarget(datagram.address);
      if (target === null) continue;
      const family = ipFamily(target)!;
      try {
        await this.#socketFor(family).send(datagram.data, {
          transport: "udp",
          hostname: target,
          port: datagram.address.port,
        });
      } catch {
        this.#drop("send_failed");
        continue;
      }
      this.#remember(`${target}|${datagram.address.port}`);
      this.#session.up.bytes += datagram.data.length;
      server.metrics.count("udp_datagrams_up_total");
    }
  }

  async #toClient(socket: Deno.DatagramConn): Promise<void> {
    const { server } = this.#session;
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [bytes, addr] = await socket.receive(buffer);
        data = bytes;
        from = addr as Deno.NetAddr;
      } catch {
        return;
      }
      const sender = canonicalIp(from.hostname);
      if (!this.#peers.has(`${sender}|${from.port}`)) {
        this.#drop("unsolicited");
        continue;
      }
      const packet = encodeUdpDatagram(toSocksAddress(sender, from.port), data);
      if (packet.length > _MAX_UDP_PAYLOAD) {
        this.#drop("oversized");
        continue;
      }
      try {
        await this.#relay.send(packet, {
          transport: "udp",
          hostname: this.#clientIp,
          port: this.#clientPort!,
        });
      } catch {
        this.#drop("send_failed");
        continue;
      }
      this.#session.down.bytes += data.length;
      server.metrics.count("udp_datagrams_down_total");
    }
  }

  /** The first permitted address of a datagram's destination, or `null`. */
  async #permittedTarget(destination: SocksAddress): Promise<string | null> {
    const { ruleset } = this.#session.server;
    const request = { ...this.#session.ruleRequest, destination };
    if (!(await ruleset.permits(request))) {
      this.#drop("ruleset");
      return null;
    }
    let addresses: string[];
    try {
      addresses = ipFamily(destination.host) !== null
        ? [canonicalIp(destination.host)]
        : await this.#resolve(destination.host);
    } catch {
      this.#drop("unresolvable");
      return null;
    }
    for (const address of addresses) {
      if (await ruleset.permitsAddress(request, address)) return address;
    }
    this.#drop("ruleset");
    return null;
  }

  async #resolve(name: string): Promise<string[]> {
    const now = Date.now();
    const cached = this.#names.get(name);
    if (cached && cached.expires > now) return cached.addresses;
    const { resolver, timeouts } = this.#session.server;
    // One datagram's lookup may not hold up the association for longer than
    // a CONNECT's lookup may.
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new DOMException("Resolution timed out", "TimeoutError"),
        ),
      timeouts.connect || 10_000,
    );
    let addresses: string[];
    try {
      addresses = (await resolveWithin(resolver, name, controller.signal)).map(
        canonicalIp,
      );
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

  #socketFor(family: IpFamily): Deno.DatagramConn {
    let socket = this.#outbound.get(family);
    if (!socket) {
      socket = this.#session.own(Deno.listenDatagram({
        transport: "udp",
        hostname: family === 4 ? "0.0.0.0" : "::",
        port: 0,
      }));
      this.#outbound.set(family, socket);
      this.#loops.push(this.#toClient(socket));
    }
    return socket;
  }
}
