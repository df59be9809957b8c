// CONNECT through a SOCKS5 proxy with the npm `socks` package, to a TCP echo
// server: sends SIZE random bytes, half-closes, and reads the echo to EOF.
//
// Usage: node socks_connect.mjs PROXY_PORT TARGET_HOST TARGET_PORT SIZE
// Prints: {"sent":N,"received":N,"equal":bool,"boundHost":"...","boundPort":N}
import { randomBytes } from "node:crypto";
import { readToEnd, runScript, SocksClient } from "./_socket_io.mjs";

const [proxyPort, targetHost, targetPort, size] = process.argv.slice(2);

runScript(async () => {
  const { socket, remoteHost } = await SocksClient.createConnection({
    proxy: { host: "127.0.0.1", port: Number(proxyPort), type: 5 },
    command: "connect",
    destination: { host: targetHost, port: Number(targetPort) },
    timeout: 10_000,
  });
  const payload = randomBytes(Number(size));
  const received = readToEnd(socket);
  socket.end(payload);
  const echoed = await received;
  socket.destroy();
  return {
    sent: payload.length,
    received: echoed.length,
    equal: echoed.equals(payload),
    boundHost: remoteHost?.host ?? null,
    boundPort: remoteHost?.port ?? null,
  };
});
