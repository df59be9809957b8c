/**
 * TCP_NODELAY on every relayed socket, read back from the running server
 * process: the client's connection, the outbound connection of CONNECT, and
 * both of BIND's. Without it, Nagle's algorithm holds the second write of a
 * message the relay forwards in two pieces until the peer's delayed ACK.
 *
 * @module
 */

import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ipv4Hex, RawClient } from "../_helpers/raw_client.ts";
import { echoTarget } from "../_helpers/targets.ts";
import { findExecutable } from "./_client_tool.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess } from "../_helpers/server_process.ts";

const python = findExecutable("python3", "apt-get install python3");
const LISTER = fileURLToPath(
  new URL("../_helpers/tcp_sockets.py", import.meta.url),
);

interface _Socket {
  local: string;
  remote: string;
  nodelay: boolean;
}

async function serverSockets(pid: number): Promise<_Socket[]> {
  const result = await runCommand(python.command, [LISTER, String(pid)]);
  assertSucceeded(result, "tcp_sockets.py");
  return result.stdoutText.trim().split("\n").filter(Boolean).map((line) =>
    JSON.parse(line)
  );
}

serverTest({
  name: "server sets TCP_NODELAY on client, outbound and BIND sockets",
  ignore: python.ignore || Deno.build.os !== "linux",
  async fn(_t, command) {
    python.assertAvailable();
    await using server = await ServerProcess.start({ server: command });
    await using target = echoTarget();
    const proxy = {
      transport: "tcp" as const,
      hostname: "127.0.0.1",
      port: server.port,
    };

    using connect = await RawClient.open(proxy);
    await connect.send(`05 01 00 05 01 00 ${ipv4Hex(target.addr)} 01`);
    assert.equal(await connect.readHex(2), "05 00");
    assert.equal((await connect.read(10))[1], 0x00);
    assert.equal(await connect.readHex(1), "01");

    using bind = await RawClient.open(proxy);
    await bind.send("05 01 00 05 02 00 01 00 00 00 00 00 00");
    assert.equal(await bind.readHex(2), "05 00");
    const first = await bind.read(10);
    assert.equal(first[1], 0x00);
    const bindPort = (first[8]! << 8) | first[9]!;
    using peer = await Deno.connect({ hostname: "127.0.0.1", port: bindPort });
    assert.equal((await bind.read(10))[1], 0x00);
    await peer.write(Uint8Array.of(2));
    assert.equal(await bind.readHex(1), "02");

    const sockets = await serverSockets(server.pid);
    const port = (address: string) =>
      Number(address.slice(address.lastIndexOf(":") + 1));
    const clients = sockets.filter((s) => port(s.local) === server.port);
    const outbound = sockets.filter((s) => port(s.remote) === target.addr.port);
    const bindPeer = sockets.filter((s) => port(s.local) === bindPort);
    assert.equal(clients.length, 2, JSON.stringify(sockets));
    assert.equal(outbound.length, 1, JSON.stringify(sockets));
    assert.equal(bindPeer.length, 1, JSON.stringify(sockets));
    for (const socket of [...clients, ...outbound, ...bindPeer]) {
      assert.equal(socket.nodelay, true, JSON.stringify(socket));
    }
  },
});
