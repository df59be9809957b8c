/**
 * The network error kinds runtime adapters produce and the core acts on.
 *
 * @module
 */

/**
 * What went wrong, independent of the runtime that reported it.
 *
 * - `refused`: the destination actively refused (ECONNREFUSED).
 * - `network_unreachable`, `host_unreachable`: no route (ENETUNREACH,
 *   ENETDOWN, EHOSTUNREACH, EHOSTDOWN, ENONET).
 * - `timed_out`: the attempt timed out in the kernel (ETIMEDOUT).
 * - `address_in_use`, `address_unavailable`: binding failed (EADDRINUSE,
 *   EADDRNOTAVAIL).
 * - `permission_denied`: EACCES, EPERM (a firewall rule, a privileged port).
 * - `aborted`: the peer reset or aborted the connection (ECONNRESET,
 *   ECONNABORTED, ENOTCONN, EPIPE, EPROTO).
 * - `exhausted`: out of descriptors, buffers or memory (EMFILE, ENFILE,
 *   ENOBUFS, ENOMEM).
 * - `closed`: the socket or listener was closed by this process.
 * - `other`: anything else.
 */
export type NetErrorKind =
  | "refused"
  | "network_unreachable"
  | "host_unreachable"
  | "timed_out"
  | "address_in_use"
  | "address_unavailable"
  | "permission_denied"
  | "aborted"
  | "exhausted"
  | "closed"
  | "other";

const _KIND_BY_CODE: Readonly<Record<string, NetErrorKind>> = {
  ECONNREFUSED: "refused",
  ENETUNREACH: "network_unreachable",
  ENETDOWN: "network_unreachable",
  ENONET: "network_unreachable",
  EHOSTUNREACH: "host_unreachable",
  EHOSTDOWN: "host_unreachable",
  ETIMEDOUT: "timed_out",
  EADDRINUSE: "address_in_use",
  EADDRNOTAVAIL: "address_unavailable",
  EACCES: "permission_denied",
  EPERM: "permission_denied",
  ECONNRESET: "aborted",
  ECONNABORTED: "aborted",
  ENOTCONN: "aborted",
  EPIPE: "aborted",
  EPROTO: "aborted",
  ENOPROTOOPT: "aborted",
  EOPNOTSUPP: "aborted",
  EMFILE: "exhausted",
  ENFILE: "exhausted",
  ENOBUFS: "exhausted",
  ENOMEM: "exhausted",
  EBADF: "closed",
};

/**
 * A network failure with its kind and, when the system reported one, its
 * POSIX code.
 */
export class NetError extends Error {
  /** What went wrong. */
  readonly kind: NetErrorKind;
  /** The POSIX error code (`ECONNREFUSED`, …), when there was one. */
  readonly code: string | undefined;

  /**
   * Creates the instance.
   *
   * @param kind What went wrong.
   * @param message The runtime's message.
   * @param options The POSIX code and the runtime's original error.
   */
  constructor(
    kind: NetErrorKind,
    message: string,
    options: { code?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "NetError";
    this.kind = kind;
    this.code = options.code;
  }
}

/**
 * The kind for a POSIX error code.
 *
 * @example
 * ```ts
 * import { netErrorKindOf } from "./net_error.ts";
 * netErrorKindOf("ECONNREFUSED"); // "refused"
 * ```
 *
 * @param code For example `ECONNREFUSED`; `undefined` gives `other`.
 * @returns The kind.
 */
export function netErrorKindOf(code: string | undefined): NetErrorKind {
  return (code === undefined ? undefined : _KIND_BY_CODE[code]) ?? "other";
}

/**
 * Turns whatever a runtime threw into a {@linkcode NetError}, by the `code`
 * property Deno, Node and Bun errors carry. A `NetError` passes through, and
 * so does a `DOMException` (an abort reason: a timeout or a cancellation).
 *
 * @param error What the runtime threw.
 * @param closed Whether the runtime says the resource was closed (its own
 * "bad resource" class, which has no code).
 * @returns The error to throw.
 */
export function toNetError(error: unknown, closed = false): unknown {
  if (error instanceof NetError || error instanceof DOMException) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (closed) return new NetError("closed", message, { cause: error });
  return new NetError(
    netErrorKindOf(typeof code === "string" ? code : undefined),
    message,
    { ...(typeof code === "string" ? { code } : {}), cause: error },
  );
}
