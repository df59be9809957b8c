/**
 * The GSS-API on Bun: the system library opened with `bun:ffi`. Bun's FFI
 * calls are synchronous, so context establishment blocks the event loop for
 * as long as the library works: accepting a Kerberos context reads the
 * keytab and the replay cache (about a millisecond here; README, "GSS-API"),
 * and a client's first step may ask the KDC for a service ticket.
 *
 * @module
 */

import { DEFAULT_GSS_LIBRARY, type GssApi, GssError } from "../gssapi.ts";
import {
  createNativeGssapi,
  GSS_SYMBOLS,
  type GssSymbolName,
  type NativeArg,
  type NativeType,
} from "../gssapi_native.ts";

/** The part of `bun:ffi` used here. */
interface _BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number> };
  ptr(buffer: Uint8Array): number;
  toArrayBuffer(address: number, offset: number, length: number): ArrayBuffer;
}

// A variable specifier: `deno check` cannot resolve `bun:` modules.
const _FFI_MODULE = "bun:ffi";

const _TYPES: Record<NativeType, string> = {
  pointer: "ptr",
  u32: "u32",
  i32: "i32",
};

/**
 * Opens the GSS-API library.
 *
 * @param library The shared object to open.
 * @returns The API.
 * @throws {GssError} When the library cannot be opened.
 */
export async function loadBunGssapi(
  library: string = DEFAULT_GSS_LIBRARY,
): Promise<GssApi> {
  const ffi = (await import(_FFI_MODULE)) as _BunFfi;
  let opened;
  try {
    opened = ffi.dlopen(
      library,
      Object.fromEntries(
        Object.entries(GSS_SYMBOLS).map(([name, symbol]) => [name, {
          args: symbol.parameters.map((type) => _TYPES[type]),
          returns: _TYPES[symbol.result],
        }]),
      ),
    );
  } catch (error) {
    throw new GssError(
      `Cannot load the GSS-API library ${JSON.stringify(library)}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  const toBun = (arg: NativeArg): unknown =>
    typeof arg === "bigint" ? Number(arg) : arg;
  const symbols = Object.fromEntries(
    Object.keys(GSS_SYMBOLS).map((name) => {
      const fn = opened.symbols[name]!;
      return [name, (...args: NativeArg[]) => fn(...args.map(toBun))];
    }),
  ) as Record<GssSymbolName, (...args: NativeArg[]) => number>;
  return createNativeGssapi({
    symbols,
    addressOf: (buffer) => BigInt(ffi.ptr(buffer)),
    read: (address, length) =>
      new Uint8Array(ffi.toArrayBuffer(Number(address), 0, length)).slice(),
  });
}
