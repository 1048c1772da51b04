import type { Database } from "@vps-claude/db";
import type { Keyring } from "@vps-claude/shared";
import type { SpritesClient } from "@vps-claude/sprites";
import { getBoxToken } from "../box/authenticate-box";
import { type BoxAgentClient, BoxUnreachableError } from "./box-agent-client";

/**
 * Reaches box-agent through the sprite URL. The request itself wakes a sleeping sprite (Sprites
 * resumes on traffic), and the Sprites client adds the account token when the URL is private; the
 * box token authenticates us to box-agent.
 */
export function createSpritesBoxAgentClient({
  sprites,
  db,
  keyring,
}: {
  sprites: SpritesClient;
  db: Database;
  keyring: Keyring;
}): BoxAgentClient {
  return {
    async call(target, request) {
      if (!target.spriteName) {
        throw new BoxUnreachableError("the box has no sandbox yet");
      }
      const token = await getBoxToken({ db, keyring, boxId: target.id });
      if (!token) {
        throw new BoxUnreachableError("the box has no token");
      }
      const headers: Record<string, string> = { "x-box-secret": token, accept: "application/json" };
      if (request.body !== undefined) {
        headers["content-type"] = "application/json";
      }
      if (request.idempotencyKey) {
        headers["idempotency-key"] = request.idempotencyKey;
      }
      let response: Response;
      try {
        response = await sprites.fetchSprite(target.spriteName, request.path, {
          method: request.method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
        });
      } catch (err) {
        throw new BoxUnreachableError(
          `box-agent did not answer: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Non-JSON answers (a proxy error page) are passed on as text.
      }
      return { status: response.status, body };
    },
  };
}
