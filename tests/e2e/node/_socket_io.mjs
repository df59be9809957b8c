// Shared by the Node client scripts: the socks client, exact reads with a
// deadline, and a canonical form for addresses so IPv6 spellings compare.
import { once } from "node:events";
import { createRequire } from "node:module";

// Loaded with require() rather than `import ... from "socks"` so that
// `deno check tests/`, which also walks these files, does not try to resolve
// the bare specifier: only Node runs them, from this folder's node_modules.
const require = createRequire(import.meta.url);

/** The npm `socks` client, as pinned in package.json. */
export const { SocksClient } = require("socks");

/** Reads exactly `length` bytes from `socket` or rejects after `timeoutMs`. */
export function readExactly(socket, length, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let total = 0;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Timed out reading ${length} bytes (got ${total})`));
    }, timeoutMs);
    const onData = (chunk) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) {
        cleanup();
        const all = Buffer.concat(chunks);
        // Bytes past the frame are not expected in these exchanges.
        if (all.length > length) socket.unshift(all.subarray(length));
        resolve(all.subarray(0, length));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`EOF after ${total} of ${length} bytes`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.pause();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.resume();
  });
}

/** Reads until the peer's FIN, bounded by `timeoutMs`. */
export async function readToEnd(socket, timeoutMs = 10_000) {
  const chunks = [];
  const onData = (chunk) => chunks.push(chunk);
  socket.on("data", onData);
  socket.resume();
  await once(socket, "end", { signal: AbortSignal.timeout(timeoutMs) });
  socket.off("data", onData);
  return Buffer.concat(chunks);
}

/** `::1`, `0:0:0:0:0:0:0:1` and `0000:...:0001` all become `::1`. */
export function canonicalHost(host) {
  return host.includes(":")
    ? new URL(`http://[${host}]/`).hostname.slice(1, -1)
    : host;
}

/** Runs `main`, prints its result as one JSON line, exits non-zero on error. */
export function runScript(main, timeoutMs = 20_000) {
  const timer = setTimeout(() => {
    console.error(`script timed out after ${timeoutMs} ms`);
    process.exit(2);
  }, timeoutMs);
  main().then(
    (result) => {
      clearTimeout(timer);
      if (result !== undefined) console.log(JSON.stringify(result));
      process.exitCode = 0;
    },
    (error) => {
      clearTimeout(timer);
      console.error(error?.stack ?? String(error));
      process.exit(1);
    },
  );
}
