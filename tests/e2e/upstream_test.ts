/**
 * The real server with `--upstream`: chains through the project itself,
 * microsocks and Dante; remote DNS; BIND and UDP through a SOCKS5 upstream;
 * refusals mapped.
 */
import assert from "node:assert/strict";
import { bind, connect, udpAssociate } from "../../src/mod.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { echoThrough, readExactly } from "../_helpers/echo_through.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload, udpEchoTarget } from "../_helpers/targets.ts";
import { startServer } from "../_helpers/test_server.ts";
import {
  DANTED,
  MICROSOCKS,
  missing,
  startDante,
  startMicrosocks,
} from "../_helpers/third_party_socks.ts";

const proxy = (port: number) => ({ proxy: { hostname: "127.0.0.1", port } });

serverTest({
  name:
    "--upstream twice chains two hops and the name is resolved by the last hop alone",
  async fn(_t, command) {
    await using target = echoTarget();
    const asked: string[] = [];
    await using last = await startServer({
      resolver: {
        resolve(name) {
          asked.push(name);
          return Promise.resolve(["127.0.0.1"]);
        },
      },
    });
    await using middle = await startServer();
    await using server = await ServerProcess.start({
      server: command,
      args: [
        "--upstream",
        `socks5://127.0.0.1:${middle.addr.port}`,
        "--upstream",
        `socks5://127.0.0.1:${last.addr.port}`,
      ],
    });
    await echoThrough(server.port, "remote-dns.invalid", target.addr.port);
    assert.deepEqual(asked, ["remote-dns.invalid"]);
    const session = await server.waitForSession({ command: "connect" });
    assert.equal(session.destination, `remote-dns.invalid:${target.addr.port}`);
    assert.equal(session.reply, 0);
  },
});

serverTest({
  name:
    "--upstream through microsocks then Dante relays CONNECT; credentials stay out of the log",
  ignore: missing(MICROSOCKS) || missing(DANTED),
  async fn(_t, command) {
    await using target = echoTarget();
    await using micro = await startMicrosocks({
      username: "u",
      password: "hunter2",
    });
    await using dante = await startDante();
    await using server = await ServerProcess.start({
      server: command,
      args: [
        "--upstream",
        `socks5://u:hunter2@127.0.0.1:${micro.port}`,
        "--upstream",
        `socks5://127.0.0.1:${dante.port}`,
      ],
    });
    await echoThrough(server.port, "127.0.0.1", target.addr.port);
    await server.waitForSession({ command: "connect", reply: 0 });
    const route = await server.waitForEvent("upstream");
    assert.equal(
      route.chain,
      `socks5://127.0.0.1:${micro.port} -> socks5://127.0.0.1:${dante.port}`,
    );
    assert.ok(!server.log.includes("hunter2"), server.log);
  },
});

serverTest({
  name: "BIND and UDP ASSOCIATE go through Dante as a SOCKS5 upstream",
  ignore: missing(DANTED),
  async fn(_t, command) {
    await using dante = await startDante();
    using echo = udpEchoTarget();
    await using server = await ServerProcess.start({
      server: command,
      args: ["--upstream", `socks5://127.0.0.1:${dante.port}`],
    });
    const binding = await bind(
      { host: "127.0.0.1", port: 0 },
      proxy(server.port),
    );
    try {
      assert.equal(binding.bound.host, "127.0.0.1");
      const peer = await Deno.connect({
        hostname: "127.0.0.1",
        port: binding.bound.port,
      });
      try {
        const from = await binding.peer;
        assert.equal(from.port, (peer.localAddr as Deno.NetAddr).port);
        await peer.write(new TextEncoder().encode("peer says hi"));
        assert.equal(
          new TextDecoder().decode(await readExactly(binding.conn, 12)),
          "peer says hi",
        );
      } finally {
        peer.close();
      }
    } finally {
      binding.conn.close();
    }
    using udp = await udpAssociate(proxy(server.port));
    const data = payload(900, 3);
    await udp.send(data, { host: "127.0.0.1", port: echo.addr.port });
    const answer = await udp.receive();
    assert.deepEqual(answer.data, data);
    assert.equal(answer.from.port, echo.addr.port);
  },
});

serverTest({
  name:
    "Refusals map: microsocks has no UDP (07 passed through), a dead first hop is 05",
  ignore: missing(MICROSOCKS),
  async fn(_t, command) {
    await using micro = await startMicrosocks();
    await using server = await ServerProcess.start({
      server: command,
      args: ["--upstream", `socks5://127.0.0.1:${micro.port}`],
    });
    await assert.rejects(
      udpAssociate(proxy(server.port)),
      (e: unknown) =>
        e instanceof SocksError && e.reply === Reply.COMMAND_NOT_SUPPORTED,
    );
    const closed = echoTarget();
    const deadPort = closed.addr.port;
    await closed.close();
    await using dead = await ServerProcess.start({
      server: command,
      args: ["--upstream", `socks5://127.0.0.1:${deadPort}`],
    });
    await assert.rejects(
      connect({ host: "127.0.0.1", port: 9 }, proxy(dead.port)),
      (e: unknown) =>
        e instanceof SocksError && e.reply === Reply.CONNECTION_REFUSED,
    );
  },
});
