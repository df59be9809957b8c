/**
 * Upstream proxy URLs: `socks5://[user:pass@]host:port`,
 * `socks4a://[user@]host:port`, `socks4://[user@]host:port` and
 * `http://[user:pass@]host:port` (HTTP CONNECT). One URL is one hop of a
 * chain; a chain lists its hops first hop first.
 *
 * @module
 */

import { formatHostPort } from "../protocol/address.ts";

/** The protocols an upstream hop may speak. */
export type UpstreamProtocol = "socks5" | "socks4a" | "socks4" | "http";

/** One hop of an upstream chain, parsed. */
export interface UpstreamHop {
  /** How to talk to it. */
  readonly protocol: UpstreamProtocol;
  /** An IP literal (IPv6 without brackets) or a name. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /**
   * Credentials: username/password for SOCKS5 (RFC 1929) and HTTP (Basic);
   * SOCKS4 sends the username as its user id and has no password.
   */
  readonly auth:
    | { readonly username: string; readonly password: string }
    | null;
  /** The URL without credentials: what logs and errors may show. */
  readonly display: string;
}

const _DEFAULT_PORTS: Readonly<Record<UpstreamProtocol, number>> = {
  socks5: 1080,
  socks4a: 1080,
  socks4: 1080,
  http: 8080,
};

/**
 * Parses one upstream URL. The port defaults to 1080 for SOCKS and 8080 for
 * HTTP. Credentials are percent-decoded.
 *
 * @example
 * ```ts
 * import { parseUpstreamUrl } from "./upstream_url.ts";
 * const hop = parseUpstreamUrl("socks5://alice:s3cret@127.0.0.1:1081");
 * hop.display; // "socks5://127.0.0.1:1081"
 * ```
 *
 * @param text The URL.
 * @returns The hop.
 * @throws {TypeError} For anything else; the message never quotes the
 * credentials.
 */
export function parseUpstreamUrl(text: string): UpstreamHop {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `Upstream ${
        JSON.stringify(_redact(text))
      } is not a URL like socks5://host:port`,
    );
  }
  const protocol = url.protocol.slice(0, -1);
  if (!(protocol in _DEFAULT_PORTS)) {
    throw new TypeError(
      `Upstream protocol ${
        JSON.stringify(protocol)
      } is not one of socks5, socks4a, socks4, http`,
    );
  }
  const kind = protocol as UpstreamProtocol;
  const host = url.hostname.startsWith("[")
    ? url.hostname.slice(1, -1)
    : url.hostname;
  if (host === "") throw new TypeError(`Upstream ${kind}:// has no host`);
  if ((url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) {
    throw new TypeError(
      `Upstream ${kind}://${
        formatHostPort(host, Number(url.port) || _DEFAULT_PORTS[kind])
      } must not have a path, query or fragment`,
    );
  }
  const port = url.port === "" ? _DEFAULT_PORTS[kind] : Number(url.port);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (kind !== "http" && kind !== "socks5" && password !== "") {
    throw new TypeError(
      `Upstream ${kind}://${
        formatHostPort(host, port)
      }: SOCKS4 has a user id but no password`,
    );
  }
  if (username.length > 255 || password.length > 255) {
    throw new TypeError(
      `Upstream ${kind}://${
        formatHostPort(host, port)
      }: username and password are at most 255 bytes`,
    );
  }
  return {
    protocol: kind,
    host,
    port,
    auth: username === "" && password === "" ? null : { username, password },
    display: `${kind}://${formatHostPort(host, port)}`,
  };
}

/**
 * Parses a chain of upstream URLs.
 *
 * @param urls The hops, first hop first; empty means direct.
 * @returns The parsed hops.
 * @throws {TypeError} For a bad URL.
 */
export function parseUpstreamChain(urls: readonly string[]): UpstreamHop[] {
  return urls.map(parseUpstreamUrl);
}

/** Hides whatever precedes the last `@`: it may hold credentials. */
function _redact(text: string): string {
  const at = text.lastIndexOf("@");
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? "";
  return `${scheme}***${text.slice(at)}`;
}
