/**
 * Headless Chromium loads a page and a script through the real server, used
 * as a SOCKS5 proxy and as an HTTP proxy (absolute-URI GETs); the text the
 * script writes into the DOM proves the script crossed the proxy too. Chromium is pointed only at IP-literal URLs, and the access log must
 * show no session to a host name (no outside lookups through the proxy).
 */
import { serverTest } from "../_helpers/server_commands.ts";
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { findExecutable } from "./_client_tool.ts";
import { startHttpTarget } from "./_http_target.ts";
import { assertSucceeded, runCommand } from "./_run_command.ts";
import { ServerProcess, splitHostPort } from "../_helpers/server_process.ts";

const chromium = findExecutable("chromium", "apt-get install chromium");

/**
 * Proxy bypass rules. `<-loopback>` removes Chromium's implicit bypass of
 * loopback, which would otherwise send 127.0.0.1 direct. `*a*` ... `*z*`
 * bypass every host that contains a letter, i.e. every name but no IPv4
 * literal: even with the flags below, Chromium 156 still asks the proxy for
 * clients2.google.com, accounts.google.com and update.googleapis.com, and
 * the proxy would then look those names up. Bypassed, they go "direct",
 * where `--host-resolver-rules` fails them at once without any DNS query.
 */
const BYPASS = ["<-loopback>", ..."abcdefghijklmnopqrstuvwxyz"].map((c) =>
  c.length === 1 ? `*${c}*` : c
).join(";");

/**
 * Flags that keep Chromium to the one page: no sandbox (CI runs as root),
 * no GPU, no first-run, sync, component or background fetches, and no QUIC
 * (UDP cannot go through this proxy).
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--disable-quic",
  "--metrics-recording-only",
  `--proxy-bypass-list=${BYPASS}`,
  // Every local lookup fails at once instead of reaching a DNS server; the
  // proxy's own address is the one exception Chromium needs.
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
];

// The same page through the proxy as a SOCKS5 proxy and as an HTTP proxy
// (absolute-URI GETs on the same port).
for (const scheme of ["socks5", "http"] as const) {
  serverTest({
    name:
      `Chromium renders script-written text when the page and the script come through the proxy (${scheme}://)`,
    ignore: chromium.ignore,
    // Chromium's own helper processes exit on their own after the browser;
    // everything this test opens (server, targets, temp dir) is closed below.
    async fn(_t, command) {
      chromium.assertAvailable();
      await using server = await ServerProcess.start({ server: command });
      // Page and script on different ports, so each shows up in the access
      // log as its own session.
      await using pageHost = await startHttpTarget({ hostname: "127.0.0.1" });
      await using scriptHost = await startHttpTarget({ hostname: "127.0.0.1" });
      const profile = await Deno.makeTempDir({
        prefix: "socks5-e2e-chromium-",
      });
      try {
        const scriptUrl = `${scriptHost.origin}/app.js`;
        const pageUrl = `${pageHost.origin}/page.html?src=${
          encodeURIComponent(scriptUrl)
        }`;
        const result = await runCommand(chromium.command, [
          ...FLAGS,
          `--user-data-dir=${profile}`,
          `--proxy-server=${scheme}://127.0.0.1:${server.port}`,
          "--dump-dom",
          pageUrl,
        ], { timeoutMs: 30_000, env: { HOME: profile } });
        assertSucceeded(result, "chromium --dump-dom");

        const written = `<p id="out">${scriptHost.scriptToken}</p>`;
        assert.ok(
          result.stdoutText.includes(written),
          `DOM lacks ${written}:\n${result.stdoutText}\nstderr:\n${
            result.stderr.slice(0, 3000)
          }`,
        );
        assert.deepEqual(pageHost.requests, ["/page.html"]);
        assert.deepEqual(scriptHost.requests, ["/app.js"]);

        // Chromium may keep connections open until it exits; it has exited, so
        // both sessions end and get logged.
        for (const target of [pageHost, scriptHost]) {
          // Chromium also opens speculative connections that carry nothing;
          // the one that matters carried the response.
          await server.waitForSession({
            command: "connect",
            destination: { host: "127.0.0.1", port: target.port },
            reply: 0,
            protocol: scheme,
            minBytesUp: 1,
            minBytesDown: 1,
          });
        }
        for (const session of server.sessions) {
          const host = session.destination === null
            ? null
            : splitHostPort(session.destination).host;
          assert.ok(
            host === null || isIP(host) !== 0,
            `Chromium asked the proxy for a host name: ${
              JSON.stringify(session)
            }`,
          );
        }
      } finally {
        await Deno.remove(profile, { recursive: true });
      }
    },
  });
}
