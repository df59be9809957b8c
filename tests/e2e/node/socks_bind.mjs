// BIND through a SOCKS5 proxy with the npm `socks` package. After the first
// reply (the proxy's listening address) a plain net socket in this script
// connects to it; the second reply must name that socket; then data flows
// both ways.
//
// Usage: node socks_bind.mjs PROXY_PORT
// Prints: {"bound":{host,port},"established":{host,port},
//          "peerLocal":{host,port},"clientGot":"...","peerGot":"..."}
import net from "node:net";
import { once } from "node:events";
import {
  canonicalHost,
  readExactly,
  runScript,
  SocksClient,
} from "./_socket_io.mjs";

const [proxyPort] = process.argv.slice(2);
const FROM_CLIENT = "hello from the BIND client";
const FROM_PEER = "hello from the peer that connected in";

runScript(async () => {
  const client = new SocksClient({
    proxy: { host: "127.0.0.1", port: Number(proxyPort), type: 5 },
    command: "bind",
    // The address the peer will connect from; port 0 means "any".
    destination: { host: "127.0.0.1", port: 0 },
    timeout: 10_000,
  });
  const bound = once(client, "bound");
  const established = once(client, "established");
  const failed = once(client, "error").then(([error]) => {
    throw error;
  });
  client.connect();

  const [{ remoteHost: boundAt }] = await Promise.race([bound, failed]);
  const peer = net.connect({ host: boundAt.host, port: boundAt.port });
  await Promise.race([once(peer, "connect"), failed]);
  const peerLocal = {
    host: canonicalHost(peer.localAddress),
    port: peer.localPort,
  };

  const [{ remoteHost: peerSeen, socket }] = await Promise.race([
    established,
    failed,
  ]);
  socket.write(FROM_CLIENT);
  peer.write(FROM_PEER);
  const [clientGot, peerGot] = await Promise.all([
    readExactly(socket, Buffer.byteLength(FROM_PEER)),
    readExactly(peer, Buffer.byteLength(FROM_CLIENT)),
  ]);
  // Flowing again so each side sees the other's FIN and can close.
  socket.resume();
  peer.resume();
  socket.end();
  peer.end();
  await Promise.all([once(socket, "close"), once(peer, "close")]);
  return {
    bound: { host: canonicalHost(boundAt.host), port: boundAt.port },
    established: { host: canonicalHost(peerSeen.host), port: peerSeen.port },
    peerLocal,
    clientGot: clientGot.toString(),
    peerGot: peerGot.toString(),
    expectedClientGot: FROM_PEER,
    expectedPeerGot: FROM_CLIENT,
  };
});
