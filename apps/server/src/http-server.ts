import type { ServerOptions } from "node:http";

/**
 * The Node HTTP server in front of the app. Claude in a box (the CLI, a Bun binary) keeps an idle
 * connection to the model gateway in its pool for five minutes and ignores the `Keep-Alive: timeout`
 * hint, while Node closes an idle connection after 5 s: a model request sent on a connection just
 * as the server closes it fails with ECONNRESET, and Bun does not send a POST again. So the server
 * keeps idle connections longer than that pool does, and the client is always the one to close.
 * Clients that read the hint (undici, Node's agent) close theirs a little before it.
 */
export const HTTP_SERVER_OPTIONS = { keepAliveTimeout: 310_000 } satisfies ServerOptions;
