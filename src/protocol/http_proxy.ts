/**
 * HTTP/1.1 proxy requests (RFC 9110, RFC 9112): request and response heads,
 * the two request-target forms a proxy serves (authority-form for CONNECT,
 * absolute-form `http://...` for forwarding), body framing, hop-by-hop
 * header removal, Basic proxy credentials (RFC 7617) and a chunked-body
 * scanner that finds where a request body ends.
 *
 * ```
 * request-line = method SP request-target SP HTTP-version CRLF
 * header-field = field-name ":" OWS field-value OWS CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * last-chunk   = 1*("0") [ chunk-ext ] CRLF, then trailer fields, CRLF
 * ```
 *
 * Heads are decoded byte for byte (Latin-1), so whatever is forwarded is
 * what arrived, minus the headers this module removes.
 *
 * @module
 */

import { type SocksAddress, toSocksAddress } from "./address.ts";
import { AddressType, Reply } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import type { LineReader } from "./reader.ts";

/** The longest head line accepted, CRLF included. */
export const HTTP_MAX_LINE = 8 * 1024;
/** The largest head accepted (request line and every header). */
export const HTTP_MAX_HEAD = 32 * 1024;
/** The most header fields accepted in one head. */
export const HTTP_MAX_FIELDS = 100;

/** A header field: name as sent, value without surrounding whitespace. */
export type HttpField = readonly [name: string, value: string];

/**
 * A request the proxy must answer with a status instead of forwarding it;
 * carries the status and any header fields the answer needs (407 names the
 * authentication scheme).
 */
export class HttpStatusError extends ProtocolError {
  /** The HTTP status code to answer with. */
  readonly status: number;
  /** Extra header fields of the answer. */
  readonly fields: readonly HttpField[];

  /**
   * Creates the instance.
   *
   * @param status The status code.
   * @param message What was wrong, for the log.
   * @param options The neutral reply code for logs and metrics, and extra
   * header fields.
   */
  constructor(
    status: number,
    message: string,
    options: { reply?: Reply; fields?: readonly HttpField[] } = {},
  ) {
    super(message, options.reply ?? Reply.GENERAL_FAILURE);
    this.name = "HttpStatusError";
    this.status = status;
    this.fields = options.fields ?? [];
  }
}

/** A parsed request head. */
export interface HttpRequestHead {
  /** The method, as sent (case-sensitive). */
  method: string;
  /** The request-target, as sent. */
  target: string;
  /** The protocol version. */
  version: "HTTP/1.0" | "HTTP/1.1";
  /** Every header field, in order. */
  fields: HttpField[];
}

/** A parsed response head. */
export interface HttpResponseHead {
  /** The status line, as sent (without its line end). */
  statusLine: string;
  /** The status code. */
  status: number;
  /** Every header field, in order. */
  fields: HttpField[];
}

/** Where a proxy request goes. */
export type ProxyTarget =
  | {
    /** `CONNECT host:port`: a tunnel. */
    form: "authority";
    /** The tunnel's destination. */
    destination: SocksAddress;
  }
  | {
    /** `GET http://host:port/path`: a request to forward. */
    form: "absolute";
    /** The origin server. */
    destination: SocksAddress;
    /** The authority as sent (`host[:port]`), for the Host field. */
    authority: string;
    /** The origin-form target: path and query, at least `/`. */
    path: string;
  };

/** How a request body is delimited. */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" };

const _TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const _HOST_NAME = /^[A-Za-z0-9._-]+$/;
const _DIGITS = /^[0-9]+$/;
/**
 * Hop-by-hop fields (RFC 9110 §7.6.1), plus the non-standard
 * Proxy-Connection and the proxy's own credentials; Host is rewritten.
 */
const _HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
]);
/**
 * Fields a Connection option may never remove: dropping the framing fields
 * while the body still goes through would let the body pass for a second
 * request at the origin.
 */
const _NEVER_DROPPED = new Set(["content-length", "transfer-encoding", "host"]);

/**
 * Reads head lines up to the empty line that ends a head.
 *
 * @param reader Lines from the connection.
 * @returns The lines, without line ends (the empty line not included).
 * @throws {HttpStatusError} 431 for a line or head over the limits, 400 for
 * a bare CR, a NUL or an obsolete line folding.
 * @throws {UnexpectedEofError} When the stream ends first.
 */
export async function readHeadLines(reader: LineReader): Promise<string[]> {
  const lines: string[] = [];
  let total = 0;
  for (;;) {
    let bytes;
    try {
      bytes = await reader.readLine(HTTP_MAX_LINE);
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw new HttpStatusError(431, error.message);
      }
      throw error;
    }
    total += bytes.length;
    if (total > HTTP_MAX_HEAD || lines.length > HTTP_MAX_FIELDS + 1) {
      throw new HttpStatusError(431, `Head larger than ${HTTP_MAX_HEAD} bytes`);
    }
    const line = _lineText(bytes);
    // RFC 9112 §2.2: empty lines before the request line are ignored.
    if (line === "" && lines.length === 0) continue;
    if (line === "") return lines;
    lines.push(line);
  }
}

/**
 * Splits a buffered head (as the proxy sees a response arrive) into lines.
 *
 * @param bytes Bytes that may hold a complete head.
 * @returns The lines and the head's length in bytes, or `null` when the
 * empty line has not arrived yet.
 * @throws {HttpStatusError} 400 for a bare CR or a NUL.
 */
export function splitHead(
  bytes: Uint8Array,
): { lines: string[]; length: number } | null {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const lf = bytes.indexOf(0x0a, start);
    if (lf < 0) return null;
    const line = _lineText(bytes.subarray(start, lf + 1));
    start = lf + 1;
    if (line === "") return { lines, length: start };
    lines.push(line);
  }
}

/**
 * Parses a request head.
 *
 * @param lines From {@linkcode readHeadLines}.
 * @returns The head.
 * @throws {HttpStatusError} 400 for a malformed line, 505 for a version
 * other than HTTP/1.0 or HTTP/1.1.
 */
export function parseRequestHead(lines: readonly string[]): HttpRequestHead {
  const [requestLine, ...rest] = lines;
  const parts = (requestLine ?? "").split(" ");
  if (parts.length !== 3 || !_TOKEN.test(parts[0]!) || parts[1] === "") {
    throw new HttpStatusError(
      400,
      `Malformed request line ${JSON.stringify(requestLine)}`,
    );
  }
  const [method, target, version] = parts as [string, string, string];
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new HttpStatusError(
      /^HTTP\/\d\.\d$/.test(version) ? 505 : 400,
      `Unsupported version ${JSON.stringify(version)}`,
    );
  }
  return { method, target, version, fields: _parseFields(rest) };
}

/**
 * Parses a response head.
 *
 * @param lines The head's lines.
 * @returns The head.
 * @throws {HttpStatusError} 502 for a malformed status line or field.
 */
export function parseResponseHead(
  lines: readonly string[],
): HttpResponseHead {
  const [statusLine = "", ...rest] = lines;
  const match = /^HTTP\/1\.[01] ([1-9][0-9]{2})(?: [^\r\n]*)?$/.exec(
    statusLine,
  );
  if (!match) {
    throw new HttpStatusError(
      502,
      `Malformed status line from the origin ${JSON.stringify(statusLine)}`,
    );
  }
  let fields;
  try {
    fields = _parseFields(rest);
  } catch (error) {
    throw new HttpStatusError(
      502,
      `Malformed response from the origin: ${(error as Error).message}`,
    );
  }
  return { statusLine, status: Number(match[1]), fields };
}

/**
 * The values of every field named `name` (case-insensitive), in order.
 *
 * @param fields The head's fields.
 * @param name A field name.
 * @returns The values.
 */
export function fieldValues(
  fields: readonly HttpField[],
  name: string,
): string[] {
  const lower = name.toLowerCase();
  return fields.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * Works out where a proxy request goes: `CONNECT host:port` (authority-form)
 * or `http://host[:port]/path` (absolute-form, port 80 by default).
 *
 * @param head The request head.
 * @returns The target.
 * @throws {HttpStatusError} 400 for any other target (origin-form, another
 * scheme, user info, a bad host or port).
 */
export function parseProxyTarget(head: HttpRequestHead): ProxyTarget {
  if (head.method === "CONNECT") {
    return { form: "authority", destination: _authority(head.target, null) };
  }
  const match = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(head.target);
  if (!match) {
    throw new HttpStatusError(
      400,
      `Not a proxy request target: ${
        JSON.stringify(head.target.slice(0, 100))
      } (expected http://host/path, or CONNECT host:port)`,
    );
  }
  const authority = match[1]!;
  let path = match[2]!;
  if (path === "") path = "/";
  else if (path.startsWith("?")) path = `/${path}`;
  return {
    form: "absolute",
    destination: _authority(authority, 80),
    authority,
    path,
  };
}

/**
 * How the request's body is delimited. Conflicting framing is refused
 * rather than guessed at (request smuggling, RFC 9112 §6.3): both
 * Content-Length and Transfer-Encoding, differing Content-Length values, or
 * a transfer coding other than `chunked` alone.
 *
 * @param head The request head.
 * @returns The framing.
 * @throws {HttpStatusError} 400 for conflicting or malformed framing, 501
 * for a transfer coding other than `chunked`.
 */
export function requestBodyFraming(head: HttpRequestHead): BodyFraming {
  const codings = fieldValues(head.fields, "transfer-encoding");
  const lengths = fieldValues(head.fields, "content-length")
    .flatMap((v) => v.split(",").map((part) => part.trim()));
  if (codings.length > 0) {
    if (lengths.length > 0) {
      throw new HttpStatusError(
        400,
        "Both Content-Length and Transfer-Encoding are present",
      );
    }
    if (head.version === "HTTP/1.0") {
      throw new HttpStatusError(
        400,
        "Transfer-Encoding in an HTTP/1.0 request",
      );
    }
    const list = codings.flatMap((v) => v.split(",")).map((c) => c.trim());
    if (list.length !== 1 || list[0]!.toLowerCase() !== "chunked") {
      throw new HttpStatusError(
        501,
        `Unsupported Transfer-Encoding ${JSON.stringify(codings.join(", "))}`,
      );
    }
    return { kind: "chunked" };
  }
  if (lengths.length === 0) return { kind: "none" };
  const first = lengths[0]!;
  if (!lengths.every((v) => v === first) || !_DIGITS.test(first)) {
    throw new HttpStatusError(
      400,
      `Invalid or conflicting Content-Length ${
        JSON.stringify(lengths.join(", "))
      }`,
    );
  }
  const length = Number(first);
  if (!Number.isSafeInteger(length)) {
    throw new HttpStatusError(400, `Content-Length ${first} is too large`);
  }
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

/**
 * Encodes the request the origin receives: origin-form target, Host set to
 * the URI's authority, hop-by-hop fields removed (also those the
 * Connection field names, except the framing fields), `Connection: close`
 * and a `Via` field added.
 *
 * @param head The client's request head.
 * @param target Its absolute-form target.
 * @returns The head's bytes, ending with the empty line.
 */
export function encodeOriginRequest(
  head: HttpRequestHead,
  target: Extract<ProxyTarget, { form: "absolute" }>,
): Uint8Array {
  const kept = _endToEnd(head.fields).filter(([n]) =>
    n.toLowerCase() !== "host"
  );
  const lines = [
    `${head.method} ${target.path} ${head.version}`,
    `Host: ${target.authority}`,
    ...kept.map(([n, v]) => `${n}: ${v}`),
    `Via: ${head.version.slice(5)} socks5-deno`,
    "Connection: close",
  ];
  return _latin1(`${lines.join("\r\n")}\r\n\r\n`);
}

/**
 * Encodes the response head the client receives: hop-by-hop fields removed,
 * and `Connection: close` on a final response (the connection carries one
 * request).
 *
 * @param head The origin's response head.
 * @returns The head's bytes, ending with the empty line.
 */
export function encodeClientResponseHead(head: HttpResponseHead): Uint8Array {
  const lines = [
    head.statusLine,
    ...(_endToEnd(head.fields).map(([n, v]) => `${n}: ${v}`)),
  ];
  if (head.status >= 200) lines.push("Connection: close");
  return _latin1(`${lines.join("\r\n")}\r\n\r\n`);
}

/** Reason phrases of the statuses the proxy itself answers with. */
export const HTTP_REASONS: Readonly<Record<number, string>> = {
  200: "Connection established",
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/**
 * Encodes a complete response from the proxy itself: the status, the given
 * fields, a short plain-text body and `Connection: close`.
 *
 * @param status The status code.
 * @param fields Extra header fields.
 * @returns The response bytes.
 */
export function encodeStatusResponse(
  status: number,
  fields: readonly HttpField[] = [],
): Uint8Array {
  const reason = HTTP_REASONS[status] ?? "Error";
  const body = `${status} ${reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    ...fields.map(([n, v]) => `${n}: ${v}`),
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${body.length}`,
    "Connection: close",
  ];
  return _latin1(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

/** The tunnel's success answer to CONNECT. */
export const CONNECT_ESTABLISHED: Uint8Array = _latin1(
  "HTTP/1.1 200 Connection established\r\n\r\n",
);

/**
 * Reads Basic credentials from Proxy-Authorization (RFC 7617).
 *
 * @param head The request head.
 * @returns The username and password bytes, or `null` when the field is
 * absent, repeated, of another scheme or malformed.
 */
export function basicProxyCredentials(
  head: HttpRequestHead,
): { username: string; password: Uint8Array } | null {
  const values = fieldValues(head.fields, "proxy-authorization");
  if (values.length !== 1) return null;
  const match = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(values[0]!);
  if (!match) return null;
  let decoded: Uint8Array;
  try {
    decoded = Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(0x3a);
  if (colon < 1) return null;
  let username: string;
  try {
    username = new TextDecoder("utf-8", { fatal: true }).decode(
      decoded.subarray(0, colon),
    );
  } catch {
    return null;
  }
  return { username, password: decoded.slice(colon + 1) };
}

/** The scanner's states. */
const _Chunk = {
  SIZE: 0,
  EXT: 1,
  SIZE_LF: 2,
  DATA: 3,
  DATA_CR: 4,
  DATA_LF: 5,
  TRAILER_START: 6,
  TRAILER: 7,
  TRAILER_LF: 8,
  FINAL_LF: 9,
  DONE: 10,
} as const;

/** Longest chunk-size line (size and extensions) accepted. */
const _MAX_CHUNK_LINE = 1024;
/** Largest trailer section accepted. */
const _MAX_TRAILER = 8 * 1024;
/** Hex digits of a chunk size: 13 stay below 2^53. */
const _MAX_SIZE_DIGITS = 13;

/**
 * Finds where a chunked body ends, byte by byte as it arrives, strictly:
 * CRLF after every size line and every chunk, hex sizes without spaces, a
 * bounded size line and trailer. The body is forwarded unchanged; the
 * scanner only says how much of the input is body.
 *
 * @example
 * ```ts
 * import { ChunkedBodyScanner } from "./http_proxy.ts";
 * const scanner = new ChunkedBodyScanner();
 * const bytes = new TextEncoder().encode("3\r\nabc\r\n0\r\n\r\nGET /");
 * scanner.feed(bytes); // 15: the body; "GET /" is not part of it
 * scanner.done; // true
 * ```
 */
export class ChunkedBodyScanner {
  #state: number = _Chunk.SIZE;
  #size = 0;
  #digits = 0;
  #lineBytes = 0;
  #trailerBytes = 0;

  /** Whether the last chunk and the trailer section have been seen. */
  get done(): boolean {
    return this.#state === _Chunk.DONE;
  }

  /**
   * Consumes input.
   *
   * @param bytes The next bytes of the stream.
   * @returns How many of them (from the start) belong to the body; fewer
   * than given only once the body is complete.
   * @throws {HttpStatusError} 400 for malformed chunked framing.
   */
  feed(bytes: Uint8Array): number {
    let i = 0;
    while (i < bytes.length && this.#state !== _Chunk.DONE) {
      if (this.#state === _Chunk.DATA) {
        const take = Math.min(this.#size, bytes.length - i);
        i += take;
        this.#size -= take;
        if (this.#size === 0) this.#state = _Chunk.DATA_CR;
        continue;
      }
      this.#step(bytes[i]!);
      i++;
    }
    return i;
  }

  #step(byte: number): void {
    switch (this.#state) {
      case _Chunk.SIZE: {
        const digit = _hexValue(byte);
        if (digit >= 0 && this.#digits < _MAX_SIZE_DIGITS) {
          this.#size = this.#size * 16 + digit;
          this.#digits++;
        } else if (this.#digits > 0 && byte === 0x3b) {
          this.#state = _Chunk.EXT;
        } else if (this.#digits > 0 && byte === 0x0d) {
          this.#state = _Chunk.SIZE_LF;
        } else {
          _malformed("chunk size");
        }
        this.#countLine();
        return;
      }
      case _Chunk.EXT:
        if (byte === 0x0d) this.#state = _Chunk.SIZE_LF;
        else if (_isControl(byte)) _malformed("chunk extension");
        this.#countLine();
        return;
      case _Chunk.SIZE_LF:
        if (byte !== 0x0a) _malformed("chunk size line end");
        this.#state = this.#size === 0 ? _Chunk.TRAILER_START : _Chunk.DATA;
        this.#digits = 0;
        this.#lineBytes = 0;
        return;
      case _Chunk.DATA_CR:
        if (byte !== 0x0d) _malformed("chunk end");
        this.#state = _Chunk.DATA_LF;
        return;
      case _Chunk.DATA_LF:
        if (byte !== 0x0a) _malformed("chunk end");
        this.#state = _Chunk.SIZE;
        return;
      case _Chunk.TRAILER_START:
      case _Chunk.TRAILER:
        if (byte === 0x0d) {
          this.#state = this.#state === _Chunk.TRAILER_START
            ? _Chunk.FINAL_LF
            : _Chunk.TRAILER_LF;
        } else if (_isControl(byte)) {
          _malformed("trailer field");
        } else {
          this.#state = _Chunk.TRAILER;
        }
        if (++this.#trailerBytes > _MAX_TRAILER) _malformed("trailer size");
        return;
      case _Chunk.TRAILER_LF:
        if (byte !== 0x0a) _malformed("trailer line end");
        this.#state = _Chunk.TRAILER_START;
        return;
      case _Chunk.FINAL_LF:
        if (byte !== 0x0a) _malformed("last chunk end");
        this.#state = _Chunk.DONE;
        return;
    }
  }

  #countLine(): void {
    if (++this.#lineBytes > _MAX_CHUNK_LINE) _malformed("chunk size line");
  }
}

function _hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

function _isControl(byte: number): boolean {
  return (byte < 0x20 && byte !== 0x09) || byte === 0x7f;
}

function _malformed(what: string): never {
  throw new HttpStatusError(400, `Malformed chunked body: bad ${what}`);
}

function _parseFields(lines: readonly string[]): HttpField[] {
  if (lines.length > HTTP_MAX_FIELDS) {
    throw new HttpStatusError(431, `More than ${HTTP_MAX_FIELDS} fields`);
  }
  return lines.map((line) => {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw new HttpStatusError(400, "Obsolete line folding in a field");
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!_TOKEN.test(name)) {
      // Also catches "Name : value": whitespace before the colon is a
      // classic smuggling trick (RFC 9112 §5.1 says reject).
      throw new HttpStatusError(
        400,
        `Malformed field ${JSON.stringify(line.slice(0, 100))}`,
      );
    }
    return [name, line.slice(colon + 1).trim()] as const;
  });
}

/** The fields left after removing the hop-by-hop ones. */
function _endToEnd(fields: readonly HttpField[]): HttpField[] {
  const dropped = new Set(_HOP_BY_HOP);
  for (const value of fieldValues(fields, "connection")) {
    for (const option of value.split(",")) {
      const name = option.trim().toLowerCase();
      if (name !== "" && !_NEVER_DROPPED.has(name)) dropped.add(name);
    }
  }
  return fields.filter(([n]) => !dropped.has(n.toLowerCase()));
}

function _authority(text: string, defaultPort: number | null): SocksAddress {
  const bad = () =>
    new HttpStatusError(
      400,
      `Bad host or port in ${JSON.stringify(text.slice(0, 300))}`,
    );
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw bad();
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw bad();
    portText = after === "" ? undefined : after.slice(1);
    if (!host.includes(":")) throw bad();
  } else {
    const colon = text.lastIndexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (!_HOST_NAME.test(host)) throw bad();
  }
  if (portText === undefined && defaultPort === null) throw bad();
  const port = portText === undefined ? defaultPort! : Number(portText);
  if (
    (portText !== undefined && !/^[0-9]{1,5}$/.test(portText)) ||
    port < 1 || port > 65535
  ) {
    throw bad();
  }
  try {
    const address = toSocksAddress(host, port);
    if (text.startsWith("[") && address.type !== AddressType.IPV6) throw bad();
    return address;
  } catch {
    throw bad();
  }
}

function _lineText(bytes: Uint8Array): string {
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) end--;
  if (bytes[end - 1] === 0x0d) end--;
  let text = "";
  for (let i = 0; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === 0x0d || byte === 0x00) {
      throw new HttpStatusError(400, "Bare CR or NUL in the head");
    }
    text += String.fromCharCode(byte);
  }
  return text;
}

function _latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
