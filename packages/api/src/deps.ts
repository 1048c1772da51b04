import type { Auth } from "@vps-claude/auth";
import type { Database } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import type { Queues } from "@vps-claude/queue";
import type { Keyring } from "@vps-claude/shared";

export interface ApiConfig {
  /** Box addresses are `{subdomain}@{agentsDomain}`. */
  agentsDomain: string;
  /** Keys the box-token lookup hash (see hashBoxToken). */
  tokenPepper: string;
  /** Model boxes use unless their agent config says otherwise. */
  defaultModel: string;
}

/** Everything services need, built once per process and passed down explicitly. */
export interface ApiDeps {
  db: Database;
  queues: Queues;
  keyring: Keyring;
  auth: Auth;
  logger: Logger;
  config: ApiConfig;
}
