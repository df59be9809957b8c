/**
 * CONNECT (RFC 1928 §4): open the outbound connection, reply with its
 * address, relay.
 *
 * @module
 */

import { relay } from "../core/relay.ts";
import type { NetAddress } from "../runtime/transport.ts";
import type { OutboundRequest } from "../outbound/outbound.ts";
import type { CommandContext } from "./context.ts";

/**
 * Handles a CONNECT request.
 *
 * The success reply is sent only after the outbound connection is
 * established, and carries its real local address (BND.ADDR/BND.PORT). Name
 * resolution and every connection attempt share the connect deadline.
 *
 * @param context The request, the client and the outbound route.
 */
export async function handleConnect(context: CommandContext): Promise<void> {
  const { settings } = context;
  context.deadline(
    settings.timeouts.connect,
    () => context.abortWithTimeout("Connect"),
  );
  const started = performance.now();
  const target = context.own(
    await context.outbound.connect(
      new _ConnectRequest(context),
      context.signal,
    ),
  );
  context.metrics.observe(
    "connect_duration_seconds",
    (performance.now() - started) / 1000,
  );
  await context.responder.succeed(target.localAddr);
  context.deadline(settings.timeouts.idle);
  return relay(context.client, target, {
    up: context.up,
    down: context.down,
    upLimit: context.upLimit,
    downLimit: context.downLimit,
    clientPrefix: context.leftover,
  });
}

/**
 * The outbound request of a CONNECT. `local` is a getter because a CONNECT
 * seldom needs it and asking costs system calls; on a class it is defined
 * once, not built into an object literal per session.
 */
class _ConnectRequest implements OutboundRequest {
  readonly rule: OutboundRequest["rule"];
  readonly via: OutboundRequest["via"];
  readonly source: OutboundRequest["source"];
  #context: CommandContext;

  constructor(context: CommandContext) {
    this.#context = context;
    this.rule = context.request;
    this.via = context.request.via;
    this.source = context.request.source;
  }

  get local(): NetAddress {
    return this.#context.local;
  }
}
