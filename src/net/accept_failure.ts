/**
 * What a failed `accept()` means for the accept loop: skip one connection, or
 * pause because the process is out of resources.
 *
 * @module
 */

/**
 * Why an accept failed.
 *
 * - `aborted`: the peer reset or aborted the connection before it was
 *   handed out (ECONNABORTED, ENOTCONN, ECONNRESET). It concerns that one
 *   connection only; anyone can cause it at will.
 * - `network`: Linux passes a pending network error of the new socket on as
 *   an accept error (accept(2): ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN,
 *   ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, ETIMEDOUT; EPERM from a
 *   firewall rule). Also one connection only.
 * - `exhausted`: out of descriptors, buffers or memory (EMFILE, ENFILE,
 *   ENOBUFS, ENOMEM). Retrying at once would spin: the loop pauses.
 * - `other`: anything else. Treated like `exhausted`, since nothing says the
 *   next accept would fare better.
 */
export type AcceptFailureKind = "aborted" | "network" | "exhausted" | "other";

/** Every kind, for metrics that must show each series from the start. */
export const ACCEPT_FAILURE_KINDS: readonly AcceptFailureKind[] = [
  "aborted",
  "network",
  "exhausted",
  "other",
];

const _KIND_BY_CODE: Readonly<Record<string, AcceptFailureKind>> = {
  ECONNABORTED: "aborted",
  ENOTCONN: "aborted",
  ECONNRESET: "aborted",
  EPIPE: "aborted",
  ENETDOWN: "network",
  EPROTO: "network",
  ENOPROTOOPT: "network",
  EHOSTDOWN: "network",
  ENONET: "network",
  EHOSTUNREACH: "network",
  EOPNOTSUPP: "network",
  ENETUNREACH: "network",
  ETIMEDOUT: "network",
  EPERM: "network",
  EMFILE: "exhausted",
  ENFILE: "exhausted",
  ENOBUFS: "exhausted",
  ENOMEM: "exhausted",
};

/**
 * Classifies an accept error by its POSIX error code (`error.code`, as Deno,
 * Node and Bun all set it), never by its message.
 *
 * @example
 * ```ts
 * import { classifyAcceptFailure } from "./accept_failure.ts";
 * classifyAcceptFailure({ code: "ENOTCONN" }); // "aborted"
 * classifyAcceptFailure({ code: "EMFILE" }); // "exhausted"
 * ```
 *
 * @param error What `accept()` threw.
 * @returns The kind.
 */
export function classifyAcceptFailure(error: unknown): AcceptFailureKind {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === "string" ? _KIND_BY_CODE[code] : undefined) ??
    "other";
}

/**
 * Tells whether the accept loop must pause before the next accept.
 *
 * @param kind From {@linkcode classifyAcceptFailure}.
 * @returns `true` for resource exhaustion and unknown failures; `false` for
 * failures that concern one connection only.
 */
export function acceptFailureNeedsPause(kind: AcceptFailureKind): boolean {
  return kind === "exhausted" || kind === "other";
}
