/**
 * UDP fragmentation (RFC 1928 §7) on the real server, from a raw UDP client:
 * reassembled with --udp-fragments, dropped without it.
 */
import assert from "node:assert/strict";
import { udpAssociate } from "../../src/mod.ts";
import { serverTest } from "../_helpers/server_commands.ts";
import { ServerProcess } from "../_helpers/server_process.ts";
import { udpEchoTarget } from "../_helpers/targets.ts";

const text = new TextEncoder();

/** RSV RSV FRAG, ATYP 01 127.0.0.1, PORT, DATA. */
function raw(frag: number, port: number, data: string): Uint8Array {
  const body = text.encode(data);
  const out = new Uint8Array(10 + body.length);
  out.set([0, 0, frag, 1, 127, 0, 0, 1, port >> 8, port & 0xff]);
  out.set(body, 10);
  return out;
}

serverTest({
  name:
    "--udp-fragments reassembles FRAG 1, 2, 0x83 into one datagram; a gap abandons the sequence",
  async fn(_t, command) {
    using echo = udpEchoTarget();
    await using server = await ServerProcess.start({
      server: command,
      args: ["--udp-fragments"],
    });
    using udp = await udpAssociate({
      proxy: { hostname: "127.0.0.1", port: server.port },
    });
    const to = { hostname: udp.relay.host, port: udp.relay.port };
    const port = echo.addr.port;
    await udp.socket.send(raw(0x01, port, "hello "), to);
    await udp.socket.send(raw(0x02, port, "fragmented "), to);
    await udp.socket.send(raw(0x83, port, "world"), to);
    const whole = await udp.receive();
    assert.equal(
      new TextDecoder().decode(whole.data),
      "hello fragmented world",
    );
    assert.equal(echo.senders.length, 1);
    // 1 then 3: a gap; the final 0x83 cannot complete anything.
    await udp.socket.send(raw(0x01, port, "lost "), to);
    await udp.socket.send(raw(0x83, port, "never"), to);
    await udp.socket.send(raw(0x00, port, "standalone"), to);
    const next = await udp.receive();
    assert.equal(new TextDecoder().decode(next.data), "standalone");
    assert.equal(echo.senders.length, 2);
  },
});

serverTest({
  name: "Without --udp-fragments a fragment is dropped, not relayed",
  async fn(_t, command) {
    using echo = udpEchoTarget();
    await using server = await ServerProcess.start({ server: command });
    using udp = await udpAssociate({
      proxy: { hostname: "127.0.0.1", port: server.port },
    });
    const to = { hostname: udp.relay.host, port: udp.relay.port };
    await udp.socket.send(raw(0x81, echo.addr.port, "fragment"), to);
    await udp.socket.send(raw(0x00, echo.addr.port, "plain"), to);
    assert.equal(new TextDecoder().decode((await udp.receive()).data), "plain");
    assert.equal(echo.senders.length, 1);
  },
});
