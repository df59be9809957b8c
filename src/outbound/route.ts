/**
 * Choosing the way out per request: the request's own upstream chain
 * (`via`, set by the rules), else the server's default chain
 * (`--upstream`), else direct.
 *
 * @module
 */

import type {
  Outbound,
  OutboundRequest,
  OutboundUdp,
  PendingBind,
  UdpSink,
} from "./outbound.ts";
import { UpstreamOutbound, type UpstreamOutboundOptions } from "./upstream.ts";
import { parseUpstreamChain } from "./upstream_url.ts";
import type { Connection } from "../runtime/transport.ts";

/** Options of {@linkcode RoutedOutbound}. */
export interface RoutedOutboundOptions extends UpstreamOutboundOptions {
  /** The direct route. */
  direct: Outbound;
  /**
   * The default chain, first hop first; empty means direct.
   * @default {[]}
   */
  upstream?: readonly string[];
}

/** Chains kept parsed, by their URLs. */
const _MAX_CHAINS = 256;

/** Sends each request the way its `via` (or the default) says. */
export class RoutedOutbound implements Outbound {
  #options: RoutedOutboundOptions;
  #default: Outbound;
  #chains = new Map<string, Outbound>();

  /**
   * Creates the router; the default chain is parsed now, so a bad URL fails
   * at startup.
   *
   * @param options The direct route, the default chain, and what an
   * upstream route needs.
   * @throws {TypeError} For a bad upstream URL (credentials not quoted).
   */
  constructor(options: RoutedOutboundOptions) {
    this.#options = options;
    const chain = options.upstream ?? [];
    this.#default = chain.length === 0
      ? options.direct
      : new UpstreamOutbound(parseUpstreamChain(chain), options);
  }

  /** The default chain's hops without credentials, first hop first. */
  get defaultChain(): readonly string[] {
    const route = this.#default;
    return route instanceof UpstreamOutbound
      ? route.chain.map((hop) => hop.display)
      : [];
  }

  /** The route for one request. */
  routeFor(request: OutboundRequest): Outbound {
    const via = request.via;
    if (via === undefined) return this.#default;
    if (via.length === 0) return this.#options.direct;
    const key = via.join("\n");
    let route = this.#chains.get(key);
    if (route === undefined) {
      route = new UpstreamOutbound(parseUpstreamChain(via), this.#options);
      if (this.#chains.size >= _MAX_CHAINS) {
        this.#chains.delete(this.#chains.keys().next().value!);
      }
      this.#chains.set(key, route);
    }
    return route;
  }

  /** CONNECT along the request's route. */
  connect(request: OutboundRequest, signal: AbortSignal): Promise<Connection> {
    return this.routeFor(request).connect(request, signal);
  }

  /** BIND along the request's route. */
  bind(request: OutboundRequest, signal: AbortSignal): Promise<PendingBind> {
    return this.routeFor(request).bind(request, signal);
  }

  /** UDP along the request's route. */
  udp(request: OutboundRequest, sink: UdpSink): Promise<OutboundUdp> {
    return this.routeFor(request).udp(request, sink);
  }
}
