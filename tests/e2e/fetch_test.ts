/**
 * Deno's own fetch, with a SOCKS5 proxy set on its HTTP client, through the
 * real server.
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { HELLO_BODY, startHttpTarget } from "./_http_target.ts";
import { ServerProcess } from "../_helpers/server_process.ts";

serverTest({
  name:
    "Deno fetch reaches an IPv4 HTTP server when its client proxies via socks5://",
  async fn(_t, command) {
    await using server = await ServerProcess.start({ server: command });
    await using target = await startHttpTarget({ hostname: "127.0.0.1" });
    const client = Deno.createHttpClient({
      proxy: { url: `socks5://127.0.0.1:${server.port}` },
    });
    try {
      const response = await fetch(`${target.origin}/hello`, { client });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), HELLO_BODY);
    } finally {
      // Closing the client drops its pooled keep-alive connection, which ends
      // the proxy session so that it is logged.
      client.close();
    }
    assert.deepEqual(target.requests, ["/hello"]);
    const session = await server.waitForSession({
      command: "connect",
      destination: { host: "127.0.0.1", port: target.port },
    });
    assert.equal(session.reply, 0);
    assert.ok(session.bytesUp > 0, `bytesUp ${session.bytesUp}`);
    assert.ok(
      session.bytesDown >= HELLO_BODY.length,
      `bytesDown ${session.bytesDown}`,
    );
  },
});
