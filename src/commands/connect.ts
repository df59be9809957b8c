/**
 * CONNECT (RFC 1928 §4): open the outbound connection, reply with its
 * address, relay.
 *
 * @module
 */

import { relay } from "../core/relay.ts";
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
      {
        rule: context.request,
        // A getter: a CONNECT seldom needs it, and asking costs system calls.
        get local() {
          return context.local;
        },
        via: context.request.via,
        source: context.request.source,
      },
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
