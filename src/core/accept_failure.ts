/**
 * What a failed `accept()` means for the accept loop: skip one connection,
 * pause because the process is out of resources, or stop.
 *
 * @module
 */

import type { NetErrorKind } from "../runtime/net_error.ts";

/**
 * The kinds an accept failure is counted under, so every series of
 * `accept_errors_total` exists from the start.
 */
export const ACCEPT_FAILURE_KINDS: readonly NetErrorKind[] = [
  "aborted",
  "network_unreachable",
  "host_unreachable",
  "timed_out",
  "permission_denied",
  "exhausted",
  "other",
];

/**
 * Tells what the accept loop does after a failed accept.
 *
 * - `skip`: the failure concerns one connection: a peer that reset or
 *   aborted before it was handed out (`aborted`), or a pending network error
 *   of the new socket that Linux passes on as an accept error (accept(2):
 *   unreachable, timed out; EPERM from a firewall rule). Anyone can cause
 *   these at will, so the loop goes on at once: pausing would let a few
 *   resets lock every client out.
 * - `pause`: out of descriptors, buffers or memory (`exhausted`), or an
 *   unknown failure: retrying at once would spin, so the loop backs off.
 * - `stop`: the listener was closed.
 *
 * @example
 * ```ts
 * import { acceptFailureAction } from "./accept_failure.ts";
 * acceptFailureAction("aborted"); // "skip"
 * acceptFailureAction("exhausted"); // "pause"
 * ```
 *
 * @param kind The failure's kind.
 * @returns What to do.
 */
export function acceptFailureAction(
  kind: NetErrorKind,
): "skip" | "pause" | "stop" {
  switch (kind) {
    case "closed":
      return "stop";
    case "exhausted":
    case "other":
    case "address_in_use":
    case "address_unavailable":
    case "refused":
      return "pause";
    default:
      return "skip";
  }
}
