/**
 * UDP ASSOCIATE (RFC 1928 §7): a UDP relay per association, alive as long as
 * the TCP connection that asked for it.
 *
 * @module
 */

import { closeQuietly } from "../core/close_quietly.ts";
import type { OutboundUdp, UdpDropReason } from "../outbound/outbound.ts";
import { listenDatagramIn } from "../outbound/port_range.ts";
import { toSocksAddress } from "../protocol/address.ts";
import { canonicalIp } from "../protocol/ip.ts";
import {
  decodeUdpDatagram,
  encodeUdpDatagram,
  type UdpDatagram,
} from "../protocol/udp_header.ts";
import type {
  Connection,
  DatagramSocket,
  NetAddress,
} from "../runtime/transport.ts";
import type { CommandContext } from "./context.ts";
import { UdpReassembler } from "./udp_reassembly.ts";

/** The largest UDP payload IPv4 can carry; a bigger answer cannot be sent. */
const _MAX_UDP_PAYLOAD = 65_507;

/**
 * Handles a UDP ASSOCIATE request.
 *
 * A relay socket is bound on the address the client's TCP connection reached
 * (or the configured external address) and named in the reply. Datagrams are
 * accepted only from the client's IP address, and only from the port named
 * in the request when it named one (otherwise the first datagram's port is
 * kept). Each datagram's header is parsed (all address types); malformed
 * and refused datagrams are dropped and counted, and so are fragments
 * (FRAG ≠ 0) unless reassembly is on (`udpFragments`, RFC 1928 §7). The outbound
 * route sends the payloads (direct: one socket per address family, answers
 * only from destinations the client has sent to), and answers come back
 * wrapped in a header naming their sender.
 *
 * The association ends when its TCP connection ends (EOF, reset or close)
 * or after the UDP idle timeout; its sockets are closed, so it cannot be used
 * afterwards.
 *
 * @param context The request, the client and the outbound route.
 */
export async function handleUdpAssociate(
  context: CommandContext,
): Promise<void> {
  const { settings, metrics } = context;
  const relaySocket = context.own(
    await listenDatagramIn(
      context.network,
      settings.externalAddress ?? canonicalIp(context.local.hostname),
      settings.udpPortRange,
    ),
  );
  const association = new _Association(context, relaySocket);
  const outbound = await context.outbound.udp(
    { rule: context.request, local: context.local, via: context.request.via },
    association,
  );
  association.outbound = outbound;
  await context.responder.succeed(
    settings.advertisedAddress === null
      ? relaySocket.addr
      : { hostname: settings.advertisedAddress, port: relaySocket.addr.port },
  );
  context.deadline(settings.timeouts.udp);
  metrics.adjust("udp_associations_active", 1);
  try {
    await Promise.race([association.run(), _untilClosed(context.client)]);
  } finally {
    closeQuietly(relaySocket);
    await outbound.close();
    metrics.adjust("udp_associations_active", -1);
  }
}

/** Reads and discards the control connection until it ends. */
async function _untilClosed(conn: Connection): Promise<void> {
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
  outbound: OutboundUdp | null = null;
  #context: CommandContext;
  #relay: DatagramSocket;
  #clientIp: string;
  #clientPort: number | null;
  #reassembler: UdpReassembler | null;

  constructor(context: CommandContext, relay: DatagramSocket) {
    this.#context = context;
    this.#relay = relay;
    this.#clientIp = canonicalIp(context.request.client.hostname);
    // The request's DST.PORT is the port the client will send from, when it
    // knows it; zero means "not known yet".
    const port = context.request.destination.port;
    this.#clientPort = port === 0 ? null : port;
    this.#reassembler = context.settings.udpFragments
      ? new UdpReassembler()
      : null;
  }

  /**
   * Queues one fragment; returns the whole datagram once its last fragment
   * arrived, else `null` (queued or dropped, and counted).
   */
  #reassemble(datagram: UdpDatagram): UdpDatagram | null {
    if (this.#reassembler === null) {
      this.drop("fragment");
      return null;
    }
    const result = this.#reassembler.push(
      datagram.fragment,
      datagram.address,
      datagram.data,
      Date.now(),
    );
    this.drop("reassembly", result.abandoned);
    if (result.kind === "dropped") this.drop(result.reason);
    if (result.kind !== "complete") return null;
    return { fragment: 0, address: result.address, data: result.data };
  }

  drop(reason: UdpDropReason, count = 1): void {
    if (count > 0) {
      this.#context.metrics.count("udp_dropped_total", count, reason);
    }
  }

  /** An answer from a destination: wrap it and send it to the client. */
  async deliver(data: Uint8Array, from: NetAddress): Promise<void> {
    const plain = encodeUdpDatagram(
      toSocksAddress(from.hostname, from.port),
      data,
    );
    // RFC 1961 §5: under GSS-API protection each datagram is one sealed
    // message, header included.
    const protection = this.#context.datagramProtection;
    const packet = protection ? protection.seal(plain) : plain;
    if (packet.length > _MAX_UDP_PAYLOAD) return this.drop("oversized");
    if (this.#clientPort === null) return this.drop("unsolicited");
    try {
      await this.#relay.send(packet, {
        hostname: this.#clientIp,
        port: this.#clientPort,
      });
    } catch {
      return this.drop("send_failed");
    }
    this.#context.down.bytes += data.length;
    this.#context.metrics.count("udp_datagrams_total", 1, "down");
  }

  /** Relays the client's datagrams until the relay socket is closed. */
  async run(): Promise<void> {
    const { ruleset, request, metrics } = this.#context;
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let data: Uint8Array;
      let from: NetAddress;
      try {
        [data, from] = await this.#relay.receive(buffer);
      } catch {
        return; // The relay socket was closed: the association is over.
      }
      if (canonicalIp(from.hostname) !== this.#clientIp) {
        this.drop("foreign_source");
        continue;
      }
      if (this.#clientPort === null) this.#clientPort = from.port;
      else if (from.port !== this.#clientPort) {
        this.drop("foreign_source");
        continue;
      }
      let datagram: UdpDatagram;
      try {
        const protection = this.#context.datagramProtection;
        datagram = decodeUdpDatagram(protection ? protection.open(data) : data);
      } catch {
        this.drop("malformed");
        continue;
      }
      if (datagram.fragment !== 0) {
        const whole = this.#reassemble(datagram);
        if (whole === null) continue;
        datagram = whole;
      } else if (this.#reassembler !== null) {
        this.drop("reassembly", this.#reassembler.standalone());
      }
      // The rules see the name before any lookup, as for CONNECT; the
      // outbound route then checks every address it resolves to.
      const rule = {
        ...request,
        destination: datagram.address,
        datagram: true,
      };
      if (!(await ruleset.permits(rule))) {
        this.drop("ruleset");
        continue;
      }
      const dropped = await this.outbound!.send(
        datagram.data,
        datagram.address,
      );
      if (dropped !== null) {
        this.drop(dropped);
        continue;
      }
      this.#context.up.bytes += datagram.data.length;
      metrics.count("udp_datagrams_total", 1, "up");
    }
  }
}
