// UDP ASSOCIATE through a SOCKS5 proxy with the npm `socks` package: one
// datagram each to an IPv4, a domain ("localhost") and an IPv6 destination,
// with the reply headers decoded; then the TCP control connection is closed
// and, once the test says so on stdin, one more datagram probes whether the
// relay still forwards.
//
// Usage: node socks_udp_associate.mjs PROXY_PORT V4_ECHO_PORT V6_ECHO_PORT
// Prints JSON lines: {"event":"exchanged","relay":{...},"results":[...]},
// then, after reading "probe" on stdin, {"event":"probed","answered":bool}.
import dgram from "node:dgram";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { canonicalHost, runScript, SocksClient } from "./_socket_io.mjs";

const [proxyPort, v4Port, v6Port] = process.argv.slice(2).map(Number);
const PAYLOAD_BYTES = 512;
const ANSWER_TIMEOUT_MS = 3_000;
/** After the control connection closed, silence this long counts as "stopped". */
const PROBE_WAIT_MS = 500;

runScript(async () => {
  // createConnection() only does CONNECT; ASSOCIATE goes through the
  // event API, where "established" carries the relay address.
  const client = new SocksClient({
    proxy: { host: "127.0.0.1", port: proxyPort, type: 5 },
    command: "associate",
    // Where our datagrams will come from is not known yet: all zeros.
    destination: { host: "0.0.0.0", port: 0 },
    timeout: 10_000,
  });
  const established = once(client, "established");
  const failed = once(client, "error").then(([error]) => {
    throw error;
  });
  client.connect();
  const [{ socket: control, remoteHost: relay }] = await Promise.race([
    established,
    failed,
  ]);
  const udp = dgram.createSocket("udp4");
  await new Promise((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const answers = [];
  let waiter;
  udp.on("message", (message) => {
    answers.push(message);
    waiter?.();
  });
  const nextAnswer = (timeoutMs) =>
    new Promise((resolve) => {
      if (answers.length > 0) return resolve(answers.shift());
      const timer = setTimeout(() => {
        waiter = undefined;
        resolve(null);
      }, timeoutMs);
      waiter = () => {
        clearTimeout(timer);
        waiter = undefined;
        resolve(answers.shift());
      };
    });
  const send = (host, port, data) =>
    new Promise((resolve, reject) => {
      const frame = SocksClient.createUDPFrame({
        remoteHost: { host, port },
        data,
      });
      udp.send(frame, relay.port, relay.host, (error) =>
        error ? reject(error) : resolve());
    });

  const cases = [
    { name: "ipv4", host: "127.0.0.1", port: v4Port },
    { name: "domain", host: "localhost", port: v4Port },
    { name: "ipv6", host: "::1", port: v6Port },
  ];
  const results = [];
  for (const { name, host, port } of cases) {
    const payload = randomBytes(PAYLOAD_BYTES);
    await send(host, port, payload);
    const answer = await nextAnswer(ANSWER_TIMEOUT_MS);
    if (answer === null) {
      results.push({ name, answered: false });
      continue;
    }
    const parsed = SocksClient.parseUDPFrame(answer);
    results.push({
      name,
      answered: true,
      rsv: answer.readUInt16BE(0),
      frag: answer[2],
      atyp: answer[3],
      host: canonicalHost(parsed.remoteHost.host),
      port: parsed.remoteHost.port,
      dataEqual: parsed.data.equals(payload),
      payloadBytes: payload.length,
    });
  }

  control.destroy();
  await once(control, "close");
  console.log(JSON.stringify({
    event: "exchanged",
    relay: { host: canonicalHost(relay.host), port: relay.port },
    results,
  }));

  // The test replies "probe" once the server has logged the session's end,
  // so the probe cannot race the teardown.
  const lines = createInterface({ input: process.stdin });
  const [line] = await once(lines, "line");
  lines.close();
  if (line.trim() !== "probe") throw new Error(`unexpected stdin line ${line}`);
  await send("127.0.0.1", v4Port, randomBytes(16));
  const late = await nextAnswer(PROBE_WAIT_MS);
  udp.close();
  return { event: "probed", answered: late !== null };
});
