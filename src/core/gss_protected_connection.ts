/**
 * RFC 1961 §5 message protection as a connection: after a protection level
 * of 1 or 2 was agreed, every byte either way travels inside
 * `01 03 LEN TOKEN` messages whose token is `gss_wrap` of the data. The
 * wrapper reads and writes plaintext, so the SOCKS request, the replies and
 * the relay run over it unchanged.
 *
 * @module
 */

import {
  decodeGssFrame,
  encodeGssFrame,
  GssMessageType,
  GssProtection,
  readGssToken,
} from "../protocol/gssapi.ts";
import { ProtocolError, UnexpectedEofError } from "../protocol/errors.ts";
import { type GssContext, GssError } from "../runtime/gssapi.ts";
import type { Connection, NetAddress } from "../runtime/transport.ts";
import { closeQuietly } from "./close_quietly.ts";
import { FrameReader } from "./frame_reader.ts";
import { writeAll } from "./relay.ts";

/** Plaintext per message: its token stays far below the 65535-byte limit. */
const _MAX_PLAINTEXT = 16 * 1024;

/** A level at which traffic is wrapped. */
export type WrappingLevel =
  | typeof GssProtection.INTEGRITY
  | typeof GssProtection.CONFIDENTIALITY;

/** Seals and opens UDP datagrams of a protected association (§5). */
export interface DatagramProtection {
  /**
   * Wraps one datagram (SOCKS UDP header and data) into `01 03 LEN TOKEN`.
   *
   * @param datagram The plaintext datagram.
   * @returns The protected datagram.
   */
  seal(datagram: Uint8Array): Uint8Array;
  /**
   * Opens one protected datagram.
   *
   * @param packet What arrived.
   * @returns The plaintext datagram.
   * @throws {ProtocolError} For a broken frame, a forged, replayed or
   * under-protected token.
   */
  open(packet: Uint8Array): Uint8Array;
}

/**
 * A connection whose traffic is wrapped with a GSS-API context. Closing it
 * closes the underlying connection and deletes the context.
 */
export class GssProtectedConnection implements Connection {
  readonly #raw: Connection;
  readonly #context: GssContext;
  readonly #confidential: boolean;
  readonly #reader: FrameReader;
  #pending: Uint8Array = new Uint8Array(0);
  #closed = false;

  /**
   * Creates the instance.
   *
   * @param raw The connection the messages travel on.
   * @param context The established context.
   * @param level 1 (integrity) or 2 (confidentiality): what each message
   * must carry, sent and received.
   * @param prefix Bytes of `raw` already read past the negotiation.
   */
  constructor(
    raw: Connection,
    context: GssContext,
    level: WrappingLevel,
    prefix: Uint8Array = new Uint8Array(0),
  ) {
    this.#raw = raw;
    this.#context = context;
    this.#confidential = level === GssProtection.CONFIDENTIALITY;
    let head: Uint8Array | null = prefix.length > 0 ? prefix : null;
    this.#reader = new FrameReader({
      read(buffer) {
        if (head === null) return raw.read(buffer);
        const n = Math.min(buffer.length, head.length);
        buffer.set(head.subarray(0, n));
        head = n === head.length ? null : head.subarray(n);
        return Promise.resolve(n);
      },
    });
  }

  /** The underlying connection's local address. */
  get localAddr(): NetAddress {
    return this.#raw.localAddr;
  }

  /** The underlying connection's peer address. */
  get remoteAddr(): NetAddress {
    return this.#raw.remoteAddr;
  }

  /**
   * Reads plaintext: what is left of the last message, else the next
   * message, unwrapped.
   *
   * @throws {ProtocolError} For a broken frame, a token that fails to
   * unwrap, comes out of order or lacks the agreed protection.
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#pending.length === 0) {
      try {
        await this.#reader.peek(1);
      } catch (error) {
        if (error instanceof UnexpectedEofError) return null;
        throw error;
      }
      const token = await readGssToken(this.#reader, GssMessageType.DATA);
      this.#pending = _open(this.#context, token, this.#confidential, true);
    }
    const n = Math.min(buffer.length, this.#pending.length);
    buffer.set(this.#pending.subarray(0, n));
    this.#pending = this.#pending.subarray(n);
    return n;
  }

  /** Wraps and writes all of `bytes`, in messages of at most 16 KiB. */
  async write(bytes: Uint8Array): Promise<number> {
    for (let offset = 0; offset < bytes.length; offset += _MAX_PLAINTEXT) {
      const piece = bytes.subarray(offset, offset + _MAX_PLAINTEXT);
      const token = this.#context.wrap(piece, this.#confidential);
      await writeAll(this.#raw, encodeGssFrame(GssMessageType.DATA, token));
    }
    return bytes.length;
  }

  /** Half-closes the underlying connection. */
  closeWrite(): Promise<void> {
    return this.#raw.closeWrite();
  }

  /** Closes the underlying connection and deletes the context. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#raw);
    this.#context.close();
  }
}

/**
 * UDP protection over the same context (RFC 1961 §5: one message per
 * datagram). Loss and reordering are normal for UDP, so gap and
 * out-of-sequence tokens are accepted; replays are not.
 *
 * @param context The established context.
 * @param level 1 or 2.
 * @returns The sealer and opener.
 */
export function gssDatagramProtection(
  context: GssContext,
  level: WrappingLevel,
): DatagramProtection {
  const confidential = level === GssProtection.CONFIDENTIALITY;
  return {
    seal: (datagram) =>
      encodeGssFrame(
        GssMessageType.DATA,
        context.wrap(datagram, confidential),
      ),
    open: (packet) => {
      const frame = decodeGssFrame(packet);
      if (frame.type !== GssMessageType.DATA) {
        throw new ProtocolError("Protected datagram is not a data message");
      }
      return _open(context, frame.token, confidential, false);
    },
  };
}

// Supplementary bits: 1 duplicate, 2 old, 3 unsequenced, 4 gap.
const _REPLAY_BITS = (1 << 1) | (1 << 2);
const _ORDER_BITS = (1 << 3) | (1 << 4);

function _open(
  context: GssContext,
  token: Uint8Array,
  confidential: boolean,
  stream: boolean,
): Uint8Array {
  let result;
  try {
    result = context.unwrap(token);
  } catch (error) {
    if (!(error instanceof GssError)) throw error;
    throw new ProtocolError(`Protected message rejected: ${error.message}`);
  }
  const refused = _REPLAY_BITS | (stream ? _ORDER_BITS : 0);
  if ((result.supplementary & refused) !== 0) {
    throw new ProtocolError(
      `Protected message replayed or out of order (status 0x${
        result.supplementary.toString(16)
      })`,
    );
  }
  if (confidential && !result.confidential) {
    throw new ProtocolError(
      "Protected message was not encrypted at protection level 2",
    );
  }
  return result.data;
}
