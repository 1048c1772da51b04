import { randomBytes } from "node:crypto";
import {
  type LoopbackServer,
  listenOnLoopback,
  type ServerAddress,
  TestClient,
} from "@vps-claude/testing/platform";
import { Hono } from "hono";

/** The floor to compare against: Hono on the same Node server, sending a fixed, identical body. */
export function startBareServer(path: string, body: string): Promise<LoopbackServer> {
  const app = new Hono();
  app.get(path, (c) => c.body(body, 200, { "content-type": "application/json" }));
  return listenOnLoopback(app.fetch);
}

/** Signs up through better-auth as the dashboard does and returns the Cookie header for the session. */
export async function signUp(server: ServerAddress) {
  const client = new TestClient(server);
  const { userId } = await client.signUp(`bench-${randomBytes(4).toString("hex")}@example.com`);
  if (!client.cookieHeader) {
    throw new Error("sign-up answered without a session cookie");
  }
  return { userId, cookie: client.cookieHeader };
}
