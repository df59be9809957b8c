/**
 * UDP fragment reassembly (RFC 1928 §7), one queue per association:
 *
 * > The FRAG field indicates whether or not this datagram is one of a
 * > number of fragments. If implemented, the high-order bit indicates
 * > end-of-fragment sequence, while a value of X'00' indicates that this
 * > datagram is standalone. Values between 1 and 127 indicate the fragment
 * > position within a fragment sequence. [...] The reassembly queue and the
 * > reassembly timer [...] must be reinitialized whenever the REASSEMBLY
 * > TIMER expires, or a new datagram arrives carrying a FRAG field whose
 * > value is less than the highest FRAG value processed for this fragment
 * > sequence. The reassembly timer MUST be no less than 5 seconds.
 *
 * Pure logic: the caller passes the time, so no timer is left running; an
 * expired queue is abandoned when the next fragment arrives.
 *
 * @module
 */

import type { SocksAddress } from "../protocol/address.ts";

/** The RFC's minimum reassembly timer, in ms. */
export const MIN_REASSEMBLY_MS = 5_000;

/** Options of {@linkcode UdpReassembler}. */
export interface UdpReassemblyOptions {
  /**
   * How long a sequence may take from its first fragment, in ms; at least
   * 5000.
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * The largest reassembled payload, in bytes.
   * @default {65507}
   */
  maxBytes?: number;
}

/**
 * What one fragment did. `abandoned` counts earlier fragments of an
 * unfinished sequence that this one made the queue give up (expired timer,
 * a reinitialized queue): the caller counts them as dropped.
 */
export type ReassemblyResult = { abandoned: number } & _Outcome;

type _Outcome =
  /** The sequence is complete: relay this payload to this destination. */
  | { kind: "complete"; address: SocksAddress; data: Uint8Array }
  /** Queued; more fragments are expected. */
  | { kind: "queued" }
  /**
   * Not usable: out of order (a gap, a repeat or an earlier position),
   * another destination than the sequence's, or position 0 with the end
   * bit. Whatever was queued is abandoned.
   */
  | { kind: "dropped"; reason: "reassembly" }
  /** The sequence grew beyond the size cap; it is abandoned. */
  | { kind: "dropped"; reason: "oversized" };

/** One association's reassembly queue. */
export class UdpReassembler {
  #timeoutMs: number;
  #maxBytes: number;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #highest = 0;
  #address: SocksAddress | null = null;
  #started = 0;
  #abandoned = 0;

  /**
   * Creates an empty queue.
   *
   * @param options Timer and size cap.
   * @throws {RangeError} For a timer under 5 s or a cap under 1 byte.
   */
  constructor(options: UdpReassemblyOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? MIN_REASSEMBLY_MS;
    this.#maxBytes = options.maxBytes ?? 65_507;
    if (!(this.#timeoutMs >= MIN_REASSEMBLY_MS)) {
      throw new RangeError(
        `The reassembly timer must be at least ${MIN_REASSEMBLY_MS} ms, got ${this.#timeoutMs}`,
      );
    }
    if (!(Number.isInteger(this.#maxBytes) && this.#maxBytes >= 1)) {
      throw new RangeError(
        `The reassembly size cap must be a positive integer, got ${this.#maxBytes}`,
      );
    }
  }

  /** How many fragments are queued. */
  get queued(): number {
    return this.#parts.length;
  }

  /**
   * A standalone datagram (FRAG X'00') arrived: FRAG 0 is below any
   * position, so a sequence in progress is abandoned.
   *
   * @returns How many queued fragments were abandoned.
   */
  standalone(): number {
    this.#abandoned = 0;
    this.#reset();
    return this.#abandoned;
  }

  /**
   * Adds one fragment.
   *
   * @param frag The FRAG byte, 1–255 (bit 7: last of the sequence).
   * @param address The fragment's DST.ADDR/DST.PORT.
   * @param data Its payload; copied when queued.
   * @param now The current time in ms.
   * @returns What became of it.
   */
  push(
    frag: number,
    address: SocksAddress,
    data: Uint8Array,
    now: number,
  ): ReassemblyResult {
    this.#abandoned = 0;
    const outcome = this.#push(frag, address, data, now);
    return { abandoned: this.#abandoned, ...outcome };
  }

  #push(
    frag: number,
    address: SocksAddress,
    data: Uint8Array,
    now: number,
  ): _Outcome {
    const position = frag & 0x7f;
    const last = (frag & 0x80) !== 0;
    if (this.#parts.length > 0 && now - this.#started >= this.#timeoutMs) {
      this.#reset();
    }
    if (position === 0) {
      this.#reset();
      return { kind: "dropped", reason: "reassembly" };
    }
    if (position !== this.#highest + 1 || !this.#sameAddress(address)) {
      // A lower or repeated position reinitializes the queue (RFC); so
      // does a gap or another destination, which cannot be reassembled.
      // Position 1 then starts the next sequence.
      this.#reset();
      if (position !== 1) return { kind: "dropped", reason: "reassembly" };
    }
    if (this.#bytes + data.length > this.#maxBytes) {
      this.#reset();
      return { kind: "dropped", reason: "oversized" };
    }
    if (this.#parts.length === 0) {
      this.#started = now;
      this.#address = address;
    }
    this.#parts.push(data.slice());
    this.#bytes += data.length;
    this.#highest = position;
    if (!last) return { kind: "queued" };
    const whole = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const part of this.#parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    const destination = this.#address!;
    this.#parts = [];
    this.#reset();
    return { kind: "complete", address: destination, data: whole };
  }

  #sameAddress(address: SocksAddress): boolean {
    const first = this.#address;
    return first === null ||
      (first.type === address.type && first.host === address.host &&
        first.port === address.port);
  }

  #reset(): void {
    this.#abandoned += this.#parts.length;
    this.#parts = [];
    this.#bytes = 0;
    this.#highest = 0;
    this.#address = null;
  }
}
