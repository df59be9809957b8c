/**
 * The command table: which handler runs a request, by command name. A
 * front-end for another protocol maps its commands onto these names and
 * reuses the handlers.
 *
 * @module
 */

import { handleBind } from "./bind.ts";
import { handleConnect } from "./connect.ts";
import type { CommandHandler, CommandName } from "./context.ts";
import { handleUdpAssociate } from "./udp_associate.ts";

/** Every command the server can run. */
export const COMMAND_HANDLERS: Readonly<Record<CommandName, CommandHandler>> =
  Object.freeze({
    connect: handleConnect,
    bind: handleBind,
    udp_associate: handleUdpAssociate,
  });
