/**
 * The HTTP server that e2e clients fetch through the proxy: a small text
 * resource, a large deterministic download, and a page whose visible text is
 * written by a script fetched separately.
 *
 * @module
 */
import {
  deterministicBody,
  deterministicSha256,
} from "./_deterministic_body.ts";

/** Size of `/big`: large enough that a relay which stalls or truncates shows. */
export const BIG_BODY_BYTES = 64 * 1024 * 1024;

/** Body of `/hello`. */
export const HELLO_BODY = "hello through socks5\n";

/** Options for {@link startHttpTarget}. */
export interface HttpTargetOptions {
  /**
   * Literal IP to listen on.
   * @default "127.0.0.1"
   */
  hostname?: string;
}

/** A running HTTP target; close it with `await using` or {@link HttpTarget.close}. */
export interface HttpTarget extends AsyncDisposable {
  /** The IP literal it listens on, as given. */
  readonly hostname: string;
  /** The ephemeral port it got. */
  readonly port: number;
  /** `http://HOST:PORT` with IPv6 in brackets, no trailing slash. */
  readonly origin: string;
  /**
   * Random text that only `/app.js` contains (reversed, so not even the
   * script's source holds it verbatim); seeing it in a DOM proves the
   * script ran.
   */
  readonly scriptToken: string;
  /** Paths of the requests served so far, in order. */
  readonly requests: readonly string[];
  /** Stops the server and waits for open responses to end. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP target on an ephemeral port.
 *
 * Routes: `/hello` ({@link HELLO_BODY}), `POST /upload` (answers the
 * body's length and hex sha256), `/big` ({@link BIG_BODY_BYTES} of
 * deterministic bytes, see {@link bigBodySha256}), `/page.html?src=URL` (a
 * page that loads the script at URL), `/app.js` (writes
 * {@link HttpTarget.scriptToken} into the page).
 */
export async function startHttpTarget(
  options: HttpTargetOptions = {},
): Promise<HttpTarget> {
  const hostname = options.hostname ?? "127.0.0.1";
  const requests: string[] = [];
  const scriptToken = `script-ran-${crypto.randomUUID()}`;
  const { promise: listening, resolve: onListen } = Promise.withResolvers<
    Deno.NetAddr
  >();
  const server = Deno.serve({
    hostname,
    port: 0,
    onListen: onListen,
  }, async (request) => {
    const url = new URL(request.url);
    requests.push(url.pathname);
    if (url.pathname === "/upload" && request.method === "POST") {
      // The body's size and sha256, so a test sees an upload arrive intact.
      const body = new Uint8Array(await request.arrayBuffer());
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", body),
      );
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
        .join("");
      return new Response(`${body.length} ${hex}\n`);
    }
    return _route(url, scriptToken);
  });
  const addr = await listening;
  const host = addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown();
  return {
    hostname,
    port: addr.port,
    origin: `http://${host}:${addr.port}`,
    scriptToken,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Hex sha256 of the `/big` body. */
export function bigBodySha256(): string {
  return deterministicSha256(BIG_BODY_BYTES);
}

function _route(url: URL, scriptToken: string): Response {
  switch (url.pathname) {
    case "/hello":
      return new Response(HELLO_BODY, {
        headers: { "content-type": "text/plain" },
      });
    case "/big":
      return new Response(deterministicBody(BIG_BODY_BYTES), {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(BIG_BODY_BYTES),
        },
      });
    case "/page.html": {
      const src = url.searchParams.get("src") ?? "/app.js";
      return new Response(_page(src), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    case "/app.js": {
      const reversed = [...scriptToken].reverse().join("");
      return new Response(
        `document.getElementById("out").textContent = ` +
          `${JSON.stringify(reversed)}.split("").reverse().join("");\n`,
        { headers: { "content-type": "text/javascript" } },
      );
    }
    default:
      return new Response("not found\n", { status: 404 });
  }
}

function _page(scriptSrc: string): string {
  const escaped = scriptSrc.replaceAll("&", "&amp;").replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>socks5 e2e</title>
<link rel="icon" href="data:,"></head>
<body><p id="out">waiting for script</p>
<script src="${escaped}"></script>
</body></html>
`;
}
