/**
 * The GSS-API over a C library loaded by FFI, written once for every
 * runtime: the runtime adapter only opens the library with
 * {@linkcode GSS_SYMBOLS} and says how to take a buffer's address and read
 * native memory ({@linkcode GssNative}). Structures are laid out for LP64
 * (Linux x86-64 and arm64): `size_t` and pointers are 8 bytes, `OM_uint32`
 * 4.
 *
 * @module
 */

import {
  type GssApi,
  type GssContext,
  type GssCredential,
  GssError,
  type GssStep,
  type GssUnwrapped,
} from "./gssapi.ts";

/** A C parameter or result type, as both runtimes' FFI name it. */
export type NativeType = "pointer" | "u32" | "i32";

/** One C function: its parameters, its result, whether it may block. */
export interface NativeSymbol {
  /** Parameter types in order. */
  readonly parameters: readonly NativeType[];
  /** Every GSS-API function returns the major status. */
  readonly result: "u32";
  /**
   * The call may wait on the network or disk (a KDC, a keytab, the replay
   * cache): run it off the event loop where the runtime can.
   */
  readonly blocking?: boolean;
}

const _P = "pointer" as const;

/** The functions used, with their C signatures (RFC 2744, MIT extensions). */
export const GSS_SYMBOLS = {
  gss_import_name: { parameters: [_P, _P, _P, _P], result: "u32" },
  gss_release_name: { parameters: [_P, _P], result: "u32" },
  gss_display_name: { parameters: [_P, _P, _P, _P], result: "u32" },
  gss_acquire_cred_from: {
    parameters: [_P, _P, "u32", _P, "i32", _P, _P, _P, _P],
    result: "u32",
    blocking: true,
  },
  gss_release_cred: { parameters: [_P, _P], result: "u32" },
  gss_init_sec_context: {
    parameters: [_P, _P, _P, _P, _P, "u32", "u32", _P, _P, _P, _P, _P, _P],
    result: "u32",
    blocking: true,
  },
  gss_accept_sec_context: {
    parameters: [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P],
    result: "u32",
    blocking: true,
  },
  gss_inquire_context: {
    parameters: [_P, _P, _P, _P, _P, _P, _P, _P, _P],
    result: "u32",
  },
  gss_wrap: { parameters: [_P, _P, "i32", "u32", _P, _P, _P], result: "u32" },
  gss_unwrap: { parameters: [_P, _P, _P, _P, _P, _P], result: "u32" },
  gss_release_buffer: { parameters: [_P, _P], result: "u32" },
  gss_delete_sec_context: { parameters: [_P, _P, _P], result: "u32" },
  gss_display_status: {
    parameters: [_P, "u32", "i32", _P, _P, _P],
    result: "u32",
  },
} as const satisfies Record<string, NativeSymbol>;

/** The names of {@linkcode GSS_SYMBOLS}. */
export type GssSymbolName = keyof typeof GSS_SYMBOLS;

/**
 * An argument: a buffer (passed by address), a raw address, `null`, or a
 * number for `u32`/`i32`.
 */
export type NativeArg = Uint8Array | bigint | number | null;

/** What a runtime adapter provides. */
export interface GssNative {
  /** The opened functions; a `blocking` one may return a promise. */
  readonly symbols: Record<
    GssSymbolName,
    (...args: NativeArg[]) => number | Promise<number>
  >;
  /**
   * The address of a buffer's first byte, stable while the buffer lives.
   *
   * @param buffer A buffer backed by its own `ArrayBuffer`.
   */
  addressOf(buffer: Uint8Array): bigint;
  /**
   * Copies `length` bytes of native memory.
   *
   * @param address Where they start.
   * @param length How many.
   */
  read(address: bigint, length: number): Uint8Array;
}

// OM_uint32 status layout (RFC 2744 §3.9.1).
const _ROUTINE_ERROR_MASK = 0xffff0000;
const _CONTINUE_NEEDED = 1;
const _GSS_C_GSS_CODE = 1;
const _GSS_C_MECH_CODE = 2;
const _GSS_C_INITIATE = 1;
const _GSS_C_ACCEPT = 2;
const _GSS_C_MUTUAL_FLAG = 2;
const _GSS_C_REPLAY_FLAG = 4;
const _GSS_C_SEQUENCE_FLAG = 8;
const _GSS_C_CONF_FLAG = 16;
const _GSS_C_INTEG_FLAG = 32;
/** GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4. */
const _HOSTBASED_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 1, 4];
/** The Kerberos 5 mechanism, 1.2.840.113554.1.2.2. */
const _KRB5_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 1, 2, 2];

/**
 * Builds the GSS-API over an opened library.
 *
 * @param native The adapter's functions.
 * @returns The API.
 */
export function createNativeGssapi(native: GssNative): GssApi {
  const lib = new _Library(native);
  return {
    acceptor: (options) => lib.acquire(_GSS_C_ACCEPT, "keytab", options.keytab),
    initiator: (options = {}) =>
      lib.acquire(_GSS_C_INITIATE, "ccache", options.ccache),
  };
}

/** Memory the library reads, kept in JavaScript-owned buffers. */
function _bytes(length: number): Uint8Array {
  // Its own ArrayBuffer: a small typed array may live inside the JS heap,
  // where the collector can move it under a native call.
  return new Uint8Array(new ArrayBuffer(Math.max(length, 8)), 0, length);
}

function _u64(buffer: Uint8Array, offset = 0): bigint {
  return new DataView(buffer.buffer, buffer.byteOffset).getBigUint64(
    offset,
    true,
  );
}

function _u32(buffer: Uint8Array, offset = 0): number {
  return new DataView(buffer.buffer, buffer.byteOffset).getUint32(
    offset,
    true,
  );
}

class _Library {
  readonly native: GssNative;
  readonly s: GssNative["symbols"];
  readonly #hostbased: _Pinned;
  readonly #krb5: _Pinned;

  constructor(native: GssNative) {
    this.native = native;
    this.s = native.symbols;
    this.#hostbased = this.oid(_HOSTBASED_OID);
    this.#krb5 = this.oid(_KRB5_OID);
  }

  get krb5Oid(): Uint8Array {
    return this.#krb5.desc;
  }

  /** A gss_OID_desc: { OM_uint32 length; void *elements }. */
  oid(elements: number[]): _Pinned {
    const data = _bytes(elements.length);
    data.set(elements);
    const desc = _bytes(16);
    const view = new DataView(desc.buffer);
    view.setUint32(0, elements.length, true);
    view.setBigUint64(8, this.native.addressOf(data), true);
    return { desc, keep: [data] };
  }

  /** A gss_buffer_desc pointing at `data` (kept alive by the caller). */
  inputBuffer(data: Uint8Array): _Pinned {
    const copy = _bytes(data.length);
    copy.set(data);
    const desc = _bytes(16);
    const view = new DataView(desc.buffer);
    view.setBigUint64(0, BigInt(data.length), true);
    view.setBigUint64(8, data.length ? this.native.addressOf(copy) : 0n, true);
    return { desc, keep: [copy] };
  }

  /** Copies an output gss_buffer_desc and releases the library's memory. */
  takeBuffer(desc: Uint8Array): Uint8Array {
    const length = Number(_u64(desc, 0));
    const address = _u64(desc, 8);
    const out = length > 0 && address !== 0n
      ? this.native.read(address, length)
      : new Uint8Array(0);
    if (address !== 0n) this.s.gss_release_buffer(_bytes(4), desc);
    return out;
  }

  check(major: number, minor: Uint8Array, what: string): void {
    if ((major & _ROUTINE_ERROR_MASK) === 0) return;
    const minorStatus = _u32(minor);
    throw new GssError(
      `${what} failed: ${this.describe(major, minorStatus)}`,
      major,
      minorStatus,
    );
  }

  describe(major: number, minor: number): string {
    const parts = [
      ...this.#statusText(major & _ROUTINE_ERROR_MASK, _GSS_C_GSS_CODE),
    ];
    if (minor !== 0) parts.push(...this.#statusText(minor, _GSS_C_MECH_CODE));
    return parts.join("; ") || `major 0x${major.toString(16)}`;
  }

  #statusText(status: number, type: number): string[] {
    const out: string[] = [];
    const context = _bytes(4);
    for (let i = 0; i < 8; i++) {
      const text = _bytes(16);
      const major = this.s.gss_display_status(
        _bytes(4),
        status >>> 0,
        type,
        null,
        context,
        text,
      ) as number;
      if ((major & _ROUTINE_ERROR_MASK) !== 0) break;
      out.push(new TextDecoder().decode(this.takeBuffer(text)));
      if (_u32(context) === 0) break;
    }
    return out;
  }

  importHostbased(name: string): Uint8Array {
    const minor = _bytes(4);
    const input = this.inputBuffer(new TextEncoder().encode(name));
    const out = _bytes(8);
    const major = this.s.gss_import_name(
      minor,
      input.desc,
      this.#hostbased.desc,
      out,
    ) as number;
    this.check(major, minor, `Importing the name ${JSON.stringify(name)}`);
    return out;
  }

  releaseName(handle: Uint8Array): void {
    if (_u64(handle) !== 0n) this.s.gss_release_name(_bytes(4), handle);
  }

  displayName(handle: Uint8Array): string {
    const minor = _bytes(4);
    const text = _bytes(16);
    const major = this.s.gss_display_name(
      minor,
      _u64(handle),
      text,
      null,
    ) as number;
    this.check(major, minor, "Naming a principal");
    return new TextDecoder().decode(this.takeBuffer(text));
  }

  async acquire(
    usage: number,
    key: "keytab" | "ccache",
    value: string | undefined,
  ): Promise<GssCredential> {
    const minor = _bytes(4);
    const handle = _bytes(8);
    const keep: Uint8Array[] = [];
    let store: Uint8Array | null = null;
    if (value !== undefined) {
      const keyText = _cString(key);
      const valueText = _cString(value);
      const element = _bytes(16);
      const view = new DataView(element.buffer);
      view.setBigUint64(0, this.native.addressOf(keyText), true);
      view.setBigUint64(8, this.native.addressOf(valueText), true);
      store = _bytes(16);
      new DataView(store.buffer).setUint32(0, 1, true);
      new DataView(store.buffer).setBigUint64(
        8,
        this.native.addressOf(element),
        true,
      );
      keep.push(keyText, valueText, element);
    }
    const major = await this.s.gss_acquire_cred_from(
      minor,
      null,
      0xffffffff,
      null,
      usage,
      store,
      handle,
      null,
      null,
    );
    keep.length = 0;
    this.check(
      major,
      minor,
      value === undefined
        ? "Acquiring the default credentials"
        : `Acquiring credentials from the ${key} ${JSON.stringify(value)}`,
    );
    return new _Credential(this, handle);
  }
}

/** A descriptor and the buffers it points into (kept alive with it). */
interface _Pinned {
  desc: Uint8Array;
  keep: Uint8Array[];
}

function _cString(text: string): Uint8Array {
  const encoded = new TextEncoder().encode(text);
  const out = _bytes(encoded.length + 1);
  out.set(encoded);
  out[encoded.length] = 0;
  return out;
}

class _Credential implements GssCredential {
  #lib: _Library;
  #handle: Uint8Array;
  #closed = false;

  constructor(lib: _Library, handle: Uint8Array) {
    this.#lib = lib;
    this.#handle = handle;
  }

  get address(): bigint {
    if (this.#closed) throw new GssError("The credentials were released");
    return _u64(this.#handle);
  }

  accept(): GssContext {
    return new _Context(this.#lib, this, null);
  }

  initiate(options: { target: string }): GssContext {
    return new _Context(
      this.#lib,
      this,
      this.#lib.importHostbased(options.target),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.s.gss_release_cred(_bytes(4), this.#handle);
  }
}

class _Context implements GssContext {
  #lib: _Library;
  #credential: _Credential;
  /** The target's imported name: set on the initiator side only. */
  #target: Uint8Array | null;
  #handle = _bytes(8);
  #peer = _bytes(8);
  #complete = false;
  #closed = false;
  #busy = false;

  constructor(
    lib: _Library,
    credential: _Credential,
    target: Uint8Array | null,
  ) {
    this.#lib = lib;
    this.#credential = credential;
    this.#target = target;
  }

  async step(input: Uint8Array | null): Promise<GssStep> {
    if (this.#closed) throw new GssError("The security context was closed");
    if (this.#complete) throw new GssError("The context is already complete");
    if (this.#busy) throw new GssError("A context step is already running");
    this.#busy = true;
    try {
      return await this.#step(input);
    } finally {
      this.#busy = false;
      // Closed while the library was working on another thread: free the
      // context now that nothing uses it.
      if (this.#closed) this.#release();
    }
  }

  async #step(input: Uint8Array | null): Promise<GssStep> {
    const lib = this.#lib;
    const minor = _bytes(4);
    const output = _bytes(16);
    const flags = _bytes(4);
    const token = lib.inputBuffer(input ?? new Uint8Array(0));
    let major: number;
    let what: string;
    if (this.#target) {
      what = "Initiating the security context";
      major = await lib.s.gss_init_sec_context(
        minor,
        this.#credential.address,
        this.#handle,
        _u64(this.#target),
        lib.krb5Oid,
        _GSS_C_MUTUAL_FLAG | _GSS_C_REPLAY_FLAG | _GSS_C_SEQUENCE_FLAG |
          _GSS_C_CONF_FLAG | _GSS_C_INTEG_FLAG,
        0,
        null,
        input ? token.desc : null,
        null,
        output,
        flags,
        null,
      );
    } else {
      what = "Accepting the security context";
      this.#lib.releaseName(this.#peer);
      major = await lib.s.gss_accept_sec_context(
        minor,
        this.#handle,
        this.#credential.address,
        token.desc,
        null,
        this.#peer,
        null,
        output,
        flags,
        null,
        null,
      );
    }
    token.keep.length = 0;
    // The output token (an error token, for a refusal) is released either
    // way; RFC 1961 answers a failure with its abort message instead.
    const out = lib.takeBuffer(output);
    lib.check(major, minor, what);
    this.#complete = (major & _CONTINUE_NEEDED) === 0;
    return { output: out.length > 0 ? out : null, complete: this.#complete };
  }

  peerName(): string {
    if (this.#target) return this.#names().source;
    return this.#lib.displayName(this.#peer);
  }

  targetName(): string {
    return this.#names().target;
  }

  #names(): { source: string; target: string } {
    const lib = this.#lib;
    const minor = _bytes(4);
    const source = _bytes(8);
    const target = _bytes(8);
    const major = lib.s.gss_inquire_context(
      minor,
      this.#address(),
      source,
      target,
      null,
      null,
      null,
      null,
      null,
    ) as number;
    lib.check(major, minor, "Inquiring the security context");
    try {
      return {
        source: lib.displayName(source),
        target: lib.displayName(target),
      };
    } finally {
      lib.releaseName(source);
      lib.releaseName(target);
    }
  }

  #address(): bigint {
    if (this.#closed) throw new GssError("The security context was closed");
    return _u64(this.#handle);
  }

  wrap(data: Uint8Array, confidential: boolean): Uint8Array {
    const lib = this.#lib;
    const minor = _bytes(4);
    const input = lib.inputBuffer(data);
    const state = _bytes(4);
    const output = _bytes(16);
    const major = lib.s.gss_wrap(
      minor,
      this.#address(),
      confidential ? 1 : 0,
      0,
      input.desc,
      state,
      output,
    ) as number;
    const token = lib.takeBuffer(output);
    lib.check(major, minor, "Wrapping a message");
    if (confidential && _u32(state) === 0) {
      throw new GssError("The mechanism did not encrypt the message");
    }
    return token;
  }

  unwrap(token: Uint8Array): GssUnwrapped {
    const lib = this.#lib;
    const minor = _bytes(4);
    const input = lib.inputBuffer(token);
    const output = _bytes(16);
    const state = _bytes(4);
    const qop = _bytes(4);
    const major = lib.s.gss_unwrap(
      minor,
      this.#address(),
      input.desc,
      output,
      state,
      qop,
    ) as number;
    const data = lib.takeBuffer(output);
    lib.check(major, minor, "Unwrapping a message");
    return {
      data,
      confidential: _u32(state) !== 0,
      qop: _u32(qop),
      supplementary: major & 0xffff,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#busy) this.#release();
  }

  #release(): void {
    const lib = this.#lib;
    if (_u64(this.#handle) !== 0n) {
      lib.s.gss_delete_sec_context(_bytes(4), this.#handle, null);
    }
    lib.releaseName(this.#peer);
    if (this.#target) lib.releaseName(this.#target);
  }
}
