/**
 * Outbound control on the real server: the source address of outbound
 * connections (Bun and the executable; Deno refuses to start), the UDP port
 * range, and advertised addresses in BIND and UDP replies.
 */
import assert from "node:assert/strict";
import { bind, connect, udpAssociate } from "../../src/mod.ts";
import { readExactly } from "../_helpers/echo_through.ts";
import {
  runToExit,
  type ServerCommand,
  serverTest,
} from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { echoTarget, payload, udpEchoTarget } from "../_helpers/targets.ts";

const proxy = (port: number) => ({ proxy: { hostname: "127.0.0.1", port } });

/** Starts the server with `args` and asserts it exits 1 saying `pattern`. */
async function _refusesToStart(
  command: ServerCommand,
  args: string[],
  pattern: RegExp,
): Promise<void> {
  const { code, stderr } = await runToExit(command, [
    "--listen",
    "127.0.0.1:0",
    ...args,
  ]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, pattern);
}

/**
 * A CONNECT through `server` to `target`: the reply names `source` as the
 * bound address, bytes echo, and the target saw its first peer from there.
 */
async function _connectsFrom(
  server: ServerProcess,
  target: ReturnType<typeof echoTarget>,
  source: string,
): Promise<void> {
  const { conn, bound } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    proxy(server.port),
  );
  try {
    assert.equal(bound.host, source);
    await conn.write(new TextEncoder().encode("ping"));
    assert.equal(
      new TextDecoder().decode(await readExactly(conn, 4)),
      "ping",
    );
  } finally {
    conn.close();
  }
  assert.equal(target.peers[0]!.hostname, source);
}

serverTest({
  name:
    "--outbound-address binds the source of outbound connections, or Deno refuses to start",
  async fn(_t, command) {
    await using target = echoTarget();
    const args = ["--outbound-address", "127.0.0.2"];
    if (command.name === "deno") {
      await _refusesToStart(
        command,
        args,
        /cannot start.*cannot bind a source address for outbound connections.*Bun/,
      );
      return;
    }
    await using server = await ServerProcess.start({ server: command, args });
    await _connectsFrom(server, target, "127.0.0.2");
  },
});

serverTest({
  name:
    "a rule's source binds the source of its requests' connections, or Deno refuses to start",
  async fn(_t, command) {
    await using viaRule = echoTarget();
    await using other = echoTarget();
    const dir = await Deno.makeTempDir({ prefix: "socks5-rule-source-" });
    try {
      const config = `${dir}/config.yaml`;
      await Deno.writeTextFile(
        config,
        [
          "rules:",
          "  - name: from-three",
          "    action: allow",
          `    port: [${viaRule.addr.port}]`,
          "    source: 127.0.0.3",
          "  - name: everything-else",
          "    action: allow",
          "",
        ].join("\n"),
      );
      const args = ["--config", config, "--outbound-address", "127.0.0.2"];
      if (command.name === "deno") {
        await _refusesToStart(
          command,
          ["--config", config],
          /cannot bind a source address.*source of rule .*from-three/,
        );
        return;
      }
      await using server = await ServerProcess.start({ server: command, args });
      await _connectsFrom(server, viaRule, "127.0.0.3");
      await _connectsFrom(server, other, "127.0.0.2");
      await server.waitForSessionCount(2);
      assert.deepStrictEqual(
        server.sessions.map((line) => line.rule).sort(),
        ["everything-else", "from-three"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest({
  name: "--udp-port-range keeps both UDP relay sockets inside the range",
  async fn(_t, command) {
    using echo = udpEchoTarget();
    const probe = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
    });
    const low = Math.min((probe.addr as Deno.NetAddr).port, 65_532);
    probe.close();
    const high = low + 3;
    await using server = await ServerProcess.start({
      server: command,
      args: ["--udp-port-range", `${low}-${high}`],
    });
    using udp = await udpAssociate(proxy(server.port));
    assert.ok(
      udp.relay.port >= low && udp.relay.port <= high,
      `relay port ${udp.relay.port} outside ${low}-${high}`,
    );
    const data = payload(512, 11);
    await udp.send(data, { host: "127.0.0.1", port: echo.addr.port });
    assert.deepEqual((await udp.receive()).data, data);
    const sender = echo.senders[0]!.port;
    assert.ok(
      sender >= low && sender <= high && sender !== udp.relay.port,
      `outbound port ${sender} outside ${low}-${high}`,
    );
  },
});

serverTest({
  name:
    "--advertise-address is what BIND and UDP replies name; the sockets stay on --external-address",
  async fn(_t, command) {
    await using server = await ServerProcess.start({
      server: command,
      args: [
        "--external-address",
        "127.0.0.1",
        "--advertise-address",
        "192.0.2.10",
      ],
    });
    const binding = await bind(
      { host: "0.0.0.0", port: 0 },
      proxy(server.port),
    );
    try {
      assert.equal(binding.bound.host, "192.0.2.10");
      // The listener is on the external address, at the advertised port.
      const peer = await Deno.connect({
        hostname: "127.0.0.1",
        port: binding.bound.port,
      });
      try {
        await binding.peer;
        await peer.write(new TextEncoder().encode("nat"));
        assert.equal(
          new TextDecoder().decode(await readExactly(binding.conn, 3)),
          "nat",
        );
      } finally {
        peer.close();
      }
    } finally {
      binding.conn.close();
    }
    using udp = await udpAssociate(proxy(server.port));
    assert.equal(udp.relay.host, "192.0.2.10");
  },
});
