/**
 * The benchmark's workload catalogue.
 *
 * @module
 */

/** Which target server a workload talks to. */
export type TargetName = "echo" | "once" | "sink" | "source" | "rr";

/**
 * Bytes of the one echo in a connection-rate loop. The `once` target reads
 * exactly this many, echoes them and closes.
 */
export const ONCE_MESSAGE_BYTES = 32;

/** One named workload. */
export interface Workload {
  /** Name used on the command line and in the table, e.g. `up8`. */
  name: string;
  /** Load-generator kind (`load.ts --kind`). */
  kind: "up" | "down" | "echo" | "cr" | "rr" | "idle";
  /** Connections (throughput), workers (connection rate) or held tunnels (idle). */
  conns: number;
  /** Message size of a request/response workload, bytes. */
  bytes?: number;
  /** Target server behind the proxy. */
  target: TargetName;
  /** Run against a proxy instance that requires username/password auth. */
  auth: boolean;
  /**
   * The proxy's user has a bcrypt hash (a users file) instead of a
   * plaintext password; only servers that read hashes run it.
   */
  hashed?: boolean;
  /**
   * Workload whose `direct` figures serve as this one's baseline; the direct
   * path has no proxy and hence no auth, so `cr64auth` compares to `cr64`.
   */
  directAs?: string;
  /** One-line description for `--help`. */
  description: string;
}

/**
 * All workloads, in run order. The idle test runs first so it sees freshly
 * started proxies whose memory was not grown by the other workloads.
 */
export const WORKLOADS: readonly Workload[] = [
  {
    name: "idle2000",
    kind: "idle",
    conns: 2000,
    target: "echo",
    auth: false,
    description:
      "hold 2,000 tunnels; proxy memory per tunnel (PSS) and base RSS",
  },
  {
    name: "up1",
    kind: "up",
    conns: 1,
    target: "sink",
    auth: false,
    description: "1 connection, client writes to a sink",
  },
  {
    name: "down1",
    kind: "down",
    conns: 1,
    target: "source",
    auth: false,
    description: "1 connection, a source writes to the client",
  },
  {
    name: "up8",
    kind: "up",
    conns: 8,
    target: "sink",
    auth: false,
    description: "8 connections, clients write to a sink",
  },
  {
    name: "down8",
    kind: "down",
    conns: 8,
    target: "source",
    auth: false,
    description: "8 connections, a source writes to the clients",
  },
  {
    name: "echo8",
    kind: "echo",
    conns: 8,
    target: "echo",
    auth: false,
    description: "8 connections through an echo server, 256 KiB in flight each",
  },
  {
    name: "cr1",
    kind: "cr",
    conns: 1,
    target: "once",
    auth: false,
    description: "1 worker: connect, greeting, CONNECT, 32 B echo, close",
  },
  {
    name: "cr64",
    kind: "cr",
    conns: 64,
    target: "once",
    auth: false,
    description: "64 concurrent workers, same loop as cr1",
  },
  {
    name: "rr1k",
    kind: "rr",
    conns: 1,
    bytes: 1024,
    target: "rr",
    auth: false,
    description:
      "1 KiB request/response, 8 per tunnel: first-exchange p50/p99 (Nagle)",
  },
  {
    name: "rr4k",
    kind: "rr",
    conns: 1,
    bytes: 4096,
    target: "rr",
    auth: false,
    description: "the same with 4 KiB messages",
  },
  {
    name: "cr64auth",
    kind: "cr",
    conns: 64,
    target: "once",
    auth: true,
    directAs: "cr64",
    description: "cr64 with RFC 1929 username/password auth",
  },
  {
    name: "cr64hash",
    kind: "cr",
    conns: 64,
    target: "once",
    auth: true,
    hashed: true,
    directAs: "cr64",
    description:
      "cr64auth with the user's password stored as a bcrypt hash (users file)",
  },
];

/** Looks a workload up by name. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
