/**
 * What the server tells about a session in progress: the rows of
 * `/api/sessions` and the status page.
 *
 * @module
 */

/** One session in progress. */
export interface SessionInfo {
  /** Unique within one server (one worker). */
  id: number;
  /** The client's address, `host:port`. */
  client: string;
  /** The authenticated user, or `null`. */
  user: string | null;
  /** The protocol the client speaks (`socks5`, …). */
  protocol: string;
  /** The command, once read (`connect`, `bind`, `udp_associate`). */
  command: string | null;
  /** The destination as the client named it, once read. */
  destination: string | null;
  /** `greeting`, `auth`, `request` or `command` (relaying). */
  stage: string;
  /** Payload bytes client → destination so far. */
  bytesUp: number;
  /** Payload bytes destination → client so far. */
  bytesDown: number;
  /** When the connection was accepted, ms since the epoch. */
  startedAt: number;
}
