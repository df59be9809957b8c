/**
 * The GSS-API on Deno: the system library opened with `Deno.dlopen` (needs
 * `--allow-ffi`). Context establishment and credential acquisition run as
 * nonblocking calls on Deno's FFI thread pool, so a KDC or keytab access
 * does not stall other sessions.
 *
 * @module
 */

import { DEFAULT_GSS_LIBRARY, type GssApi, GssError } from "../gssapi.ts";
import {
  createNativeGssapi,
  GSS_SYMBOLS,
  type GssSymbolName,
  type NativeArg,
} from "../gssapi_native.ts";

/**
 * Opens the GSS-API library.
 *
 * @param library The shared object to open.
 * @returns The API.
 * @throws {GssError} When the library cannot be opened (not installed, or
 * `--allow-ffi` missing).
 */
export function loadDenoGssapi(
  library: string = DEFAULT_GSS_LIBRARY,
): Promise<GssApi> {
  const definitions = Object.fromEntries(
    Object.entries(GSS_SYMBOLS).map(([name, symbol]) => [name, {
      parameters: symbol.parameters,
      result: symbol.result,
      nonblocking: "blocking" in symbol && symbol.blocking,
    }]),
  ) as unknown as Record<GssSymbolName, Deno.ForeignFunction>;
  let opened;
  try {
    opened = Deno.dlopen(library, definitions);
  } catch (error) {
    return Promise.reject(
      new GssError(
        `Cannot load the GSS-API library ${JSON.stringify(library)}: ${
          error instanceof Error ? error.message : error
        }`,
      ),
    );
  }
  const raw = opened.symbols as unknown as Record<
    GssSymbolName,
    (...args: unknown[]) => number | Promise<number>
  >;
  const symbols = Object.fromEntries(
    Object.keys(GSS_SYMBOLS).map((name) => {
      const fn = raw[name as GssSymbolName];
      return [name, (...args: NativeArg[]) => fn(...args.map(_toDeno))];
    }),
  ) as Record<
    GssSymbolName,
    (...args: NativeArg[]) => number | Promise<number>
  >;
  return Promise.resolve(createNativeGssapi({
    symbols,
    addressOf: (buffer) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer))),
    read: (address, length) => {
      const pointer = Deno.UnsafePointer.create(address);
      if (pointer === null) return new Uint8Array(0);
      const out = new Uint8Array(length);
      new Deno.UnsafePointerView(pointer).copyInto(out);
      return out;
    },
  }));
}

function _toDeno(arg: NativeArg): unknown {
  if (arg instanceof Uint8Array) return Deno.UnsafePointer.of(arg);
  if (typeof arg === "bigint") return Deno.UnsafePointer.create(arg);
  return arg;
}
