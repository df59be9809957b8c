/**
 * Hostile clients that connect and reset at once (SO_LINGER 0, then close),
 * so the server's next `accept()` fails for that connection.
 *
 * Also a script: `deno run --allow-net reset_clients.ts PORT COUNT` resets
 * COUNT connections to 127.0.0.1:PORT and prints how many were reset.
 *
 * @module
 */

import net from "node:net";

/**
 * Opens `count` connections, `parallel` at a time, each reset (RST, no FIN)
 * as soon as it is established.
 *
 * @param port A loopback port on 127.0.0.1.
 * @param count How many connections in all.
 * @param parallel How many in flight at once.
 * @returns How many were established and reset.
 */
export async function resetOnConnect(
  port: number,
  count: number,
  parallel = 50,
): Promise<number> {
  let next = 0;
  let reset = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        // resetAndDestroy() sets SO_LINGER to 0 and closes: the kernel
        // sends RST instead of FIN.
        socket.resetAndDestroy();
        reset++;
        resolve();
      });
      socket.on("error", () => resolve());
    });
  const worker = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return reset;
}

/**
 * Runs {@linkcode resetOnConnect} in a child process while this thread is
 * blocked, so the whole burst lands in the listen queue before an in-process
 * server can accept any of it: every one of them then fails in `accept()`.
 *
 * @param port A loopback port on 127.0.0.1 (at most `count` below the
 * listen backlog).
 * @param count How many connections.
 * @returns How many were reset.
 */
export function resetBurstWhileBlocked(port: number, count: number): number {
  const output = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL(import.meta.url).pathname,
      String(port),
      String(count),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  if (!output.success) throw new Error("reset_clients.ts failed");
  return Number(new TextDecoder().decode(output.stdout).trim());
}

if (import.meta.main) {
  const [port, count] = Deno.args.map(Number);
  console.log(await resetOnConnect(port!, count!));
}
