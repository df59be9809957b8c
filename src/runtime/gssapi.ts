/**
 * The GSS-API as the core sees it: credentials, security contexts and
 * per-message protection, with Kerberos names as strings. Each runtime
 * implements it over the system library (MIT Kerberos `libgssapi_krb5`) by
 * FFI; nothing here is specific to Deno or Bun.
 *
 * @module
 */

/** Options of {@linkcode GssApi.acceptor}. */
export interface GssAcceptorOptions {
  /** The keytab holding the service keys (`gss_acquire_cred_from`). */
  keytab: string;
}

/** Options of {@linkcode GssApi.initiator}. */
export interface GssInitiatorOptions {
  /**
   * The credential cache with the user's tickets.
   * @default {the library's default: `KRB5CCNAME`, else the system's}
   */
  ccache?: string;
}

/** Options of {@linkcode GssCredential.initiate}. */
export interface GssInitiateOptions {
  /**
   * The service as a host-based name, `service@host` (`rcmd@proxy.example`).
   */
  target: string;
}

/** Credentials acquired once and shared by many contexts. */
export interface GssCredential {
  /**
   * Starts an acceptor context (server side) with these credentials.
   *
   * @returns A context waiting for the initiator's first token.
   */
  accept(): GssContext;
  /**
   * Starts an initiator context (client side) with these credentials,
   * asking for mutual authentication, integrity and confidentiality.
   *
   * @param options The target service.
   * @returns A context whose first `step(null)` yields the first token.
   */
  initiate(options: GssInitiateOptions): GssContext;
  /** Releases the credentials. Idempotent. */
  close(): void;
}

/** What one step of context establishment produced. */
export interface GssStep {
  /** The token to send to the peer, or `null` when there is none. */
  output: Uint8Array | null;
  /** Whether the context is established (`GSS_S_COMPLETE`). */
  complete: boolean;
}

/** The result of unwrapping one message. */
export interface GssUnwrapped {
  /** The plaintext. */
  data: Uint8Array;
  /** Whether the message was encrypted (`conf_state`). */
  confidential: boolean;
  /** The quality of protection applied (0 is the default). */
  qop: number;
  /**
   * Supplementary status bits of `gss_unwrap` (duplicate, old, unsequenced,
   * gap: {@linkcode GssSupplementary}); 0 when the message came in order.
   */
  supplementary: number;
}

/** Supplementary status bits (RFC 2744 §3.9.1). */
export const GssSupplementary = {
  /** The token is a replay of one already seen. */
  DUPLICATE_TOKEN: 1 << 1,
  /** The token is too old to check for replay. */
  OLD_TOKEN: 1 << 2,
  /** A later token was already processed. */
  UNSEQ_TOKEN: 1 << 3,
  /** An expected earlier token was skipped. */
  GAP_TOKEN: 1 << 4,
} as const;

/** A security context, one per connection. */
export interface GssContext {
  /**
   * Runs one step of context establishment.
   *
   * @param input The peer's token; `null` for an initiator's first step.
   * @returns The token to send and whether the context is complete.
   * @throws {GssError} When the mechanism refuses the token.
   */
  step(input: Uint8Array | null): Promise<GssStep>;
  /**
   * The initiator's principal (`alice@EXAMPLE.COM`), once complete.
   *
   * @throws {GssError} When the library cannot name it.
   */
  peerName(): string;
  /**
   * The acceptor's principal (`rcmd/proxy.example@EXAMPLE.COM`), once
   * complete.
   *
   * @throws {GssError} When the library cannot name it.
   */
  targetName(): string;
  /**
   * Seals one message (`gss_wrap`, default QOP).
   *
   * @param data The plaintext.
   * @param confidential Encrypt (`conf_req_flag` TRUE) or only sign.
   * @returns The token.
   * @throws {GssError} When the library fails, or encryption was asked for
   * and not applied.
   */
  wrap(data: Uint8Array, confidential: boolean): Uint8Array;
  /**
   * Opens one message (`gss_unwrap`).
   *
   * @param token The token.
   * @returns The plaintext with its protection and status bits.
   * @throws {GssError} For a forged, corrupt or foreign token.
   */
  unwrap(token: Uint8Array): GssUnwrapped;
  /** Deletes the context (`gss_delete_sec_context`). Idempotent. */
  close(): void;
}

/** The GSS-API of one loaded library. */
export interface GssApi {
  /**
   * Acquires acceptor credentials for every service key in a keytab.
   *
   * @param options The keytab.
   * @returns The credentials.
   * @throws {GssError} When the keytab cannot be read or is empty.
   */
  acceptor(options: GssAcceptorOptions): Promise<GssCredential>;
  /**
   * Acquires initiator credentials (the user's tickets).
   *
   * @param options The credential cache, if not the default.
   * @returns The credentials.
   * @throws {GssError} When there are no usable tickets.
   */
  initiator(options?: GssInitiatorOptions): Promise<GssCredential>;
}

/** Loads the system GSS-API library; a runtime supplies one. */
export type GssLoader = (library?: string) => Promise<GssApi>;

/** The MIT Kerberos GSS-API library on Linux. */
export const DEFAULT_GSS_LIBRARY = "libgssapi_krb5.so.2";

/**
 * A failed GSS-API call: its major and minor status and the library's own
 * description of both (which names principals, never keys or tokens).
 */
export class GssError extends Error {
  /** The major status (routine error and calling error bits). */
  readonly major: number;
  /** The mechanism's minor status. */
  readonly minor: number;

  /**
   * Creates the instance.
   *
   * @param message What failed and why, in sentence case.
   * @param major The major status.
   * @param minor The minor status.
   */
  constructor(message: string, major = 0, minor = 0) {
    super(message);
    this.name = "GssError";
    this.major = major;
    this.minor = minor;
  }
}
