import type { Logger } from "@vps-claude/logger";

/** What every request carries through the Hono app; its own module so routes need not import the app. */
export interface AppEnv {
  Variables: { requestId: string; logger: Logger };
}
