import type { SpritesClient as SdkClient } from "@fly/sprites";
import type { Logger } from "@vps-claude/logger";

/** What every API area of the client shares: the SDK, the account, the logger and the retry policy. */
export interface ClientContext {
  sdk: SdkClient;
  /** Sprites API base URL, without a trailing slash. */
  baseUrl: string;
  /** The account token; it goes to `baseUrl` only, never to a sprite URL. */
  token: string;
  logger: Logger;
  /** How often a running command prints its keepalive marker. */
  keepaliveMs: number;
  /** Runs `run`, repeating it on transient failures. */
  retried<T>(operation: string, run: () => Promise<T>): Promise<T>;
}
