/**
 * The process on Deno: standard streams, files and signals.
 *
 * @module
 */

import { readFirstLine } from "../read_line.ts";
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
  async readPassword(prompt) {
    const terminal = Deno.stdin.isTerminal();
    if (terminal) {
      denoProcess.writeStderr(prompt);
      Deno.stdin.setRaw(true);
    }
    try {
      return await readFirstLine(_stdinChunks(), terminal);
    } finally {
      if (terminal) {
        Deno.stdin.setRaw(false);
        denoProcess.writeStderr("\n");
      }
    }
  },
};

async function* _stdinChunks(): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(1024);
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}
