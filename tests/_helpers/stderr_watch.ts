/**
 * A child process's stderr read as text on demand: wait for a marker, then
 * stop the process and drain the rest. For children whose stderr is not
 * read through {@linkcode ServerProcess} (which parses the server's JSON
 * log), e.g. a server started with a cleared environment or a bench script.
 *
 * @module
 */

/** A child's stderr, read as far as asked. */
export interface StderrWatch {
  /** Everything read so far. */
  text(): string;
  /**
   * Reads until `wanted` is in the text (a string) or matches it (a
   * pattern).
   *
   * @returns `false` when stderr ended first.
   */
  until(wanted: string | RegExp): Promise<boolean>;
  /** Sends SIGTERM, reads stderr to its end and returns the exit code. */
  stop(): Promise<number>;
}

/**
 * Watches the stderr of `child`, spawned with `stderr: "piped"`.
 *
 * @param child The process.
 * @returns The watch.
 */
export function watchStderr(child: Deno.ChildProcess): StderrWatch {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const found = (wanted: string | RegExp) =>
    typeof wanted === "string" ? text.includes(wanted) : wanted.test(text);
  return {
    text: () => text,
    async until(wanted) {
      while (!found(wanted)) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += value;
      }
      return true;
    },
    async stop() {
      child.kill("SIGTERM");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      return (await child.status).code;
    },
  };
}
