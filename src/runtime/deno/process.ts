/**
 * The process on Deno: standard streams, files and signals.
 *
 * @module
 */

import type { ProcessHost, ProcessSignal } from "../runtime.ts";

const _encoder = new TextEncoder();

/** The Deno process, as the program sees it. */
export const denoProcess: ProcessHost = {
  programName: "deno run --allow-net main.ts",
  writeStdout(text) {
    Deno.stdout.writeSync(_encoder.encode(text));
  },
  writeStderr(text) {
    try {
      const bytes = _encoder.encode(text);
      let written = 0;
      while (written < bytes.length) {
        written += Deno.stderr.writeSync(bytes.subarray(written));
      }
    } catch {
      // stderr is gone (closed pipe): nothing useful left to do with it.
    }
  },
  readTextFile: (path) => Deno.readTextFile(path),
  onSignal(signal: ProcessSignal, handler: () => void) {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  },
};
