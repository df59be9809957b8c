import assert from "node:assert/strict";
import { connect } from "../../src/mod.ts";
import { SocksError } from "../../src/protocol/errors.ts";
import { Reply } from "../../src/protocol/constants.ts";
import { startServer } from "../_helpers/test_server.ts";
import { echoTarget } from "../_helpers/targets.ts";

Deno.test("connect() authenticates and reports a refused login as 02", async () => {
  await using target = echoTarget();
  await using s = await startServer({ users: { carol: "s3cret:with:colons" } });
  const { conn } = await connect(
    { host: "127.0.0.1", port: target.addr.port },
    {
      proxy: s.addr,
      auth: { username: "carol", password: "s3cret:with:colons" },
    },
  );
  conn.close();
  await assert.rejects(
    connect({ host: "127.0.0.1", port: target.addr.port }, {
      proxy: s.addr,
      auth: { username: "carol", password: "wrong" },
    }),
    (error: unknown) =>
      error instanceof SocksError && error.reply === Reply.NOT_ALLOWED &&
      /username or password/.test(error.message),
  );
});

Deno.test("Deno fetch() goes through the server with a socks5:// proxy", async () => {
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hello through socks"),
  );
  try {
    await using s = await startServer();
    using client = Deno.createHttpClient({
      proxy: { url: `socks5://127.0.0.1:${s.addr.port}` },
    });
    const response = await fetch(`http://127.0.0.1:${http.addr.port}/`, {
      client,
    });
    assert.equal(await response.text(), "hello through socks");
    client.close();
    const [line] = await s.sessions(1);
    assert.equal(line!.destination, `127.0.0.1:${http.addr.port}`);
    assert.equal(line!.reply, 0);
  } finally {
    await http.shutdown();
  }
});
