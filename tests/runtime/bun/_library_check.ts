/**
 * Run by Bun (see mod_test.ts): the library entry for Bun serves, relays
 * through its own client, and shuts down. Prints one JSON line.
 *
 * @module
 */

import { connect, serve } from "../../../src/runtime/bun/mod.ts";

const proxy = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
// A second proxy stands in for a service: it answers a greeting.
const service = await serve({ listen: { hostname: "127.0.0.1", port: 0 } });
const { conn } = await connect(
  { host: "127.0.0.1", port: service.addr.port },
  { proxy: proxy.addr },
);
await conn.write(Uint8Array.of(5, 1, 0));
const answer = new Uint8Array(2);
const n = await conn.read(answer);
conn.close();
await proxy.shutdown({ graceMs: 0 });
await service.shutdown({ graceMs: 0 });
console.log(JSON.stringify({ n, answer: [...answer] }));
