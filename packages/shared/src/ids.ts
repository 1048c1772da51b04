import { TypeID, typeid } from "typeid-js";

/**
 * The one closed map of ID prefixes. Every row id in the platform is a TypeID whose prefix names
 * its table, so an id pasted into a log or a URL says what it is.
 */
export const ID_PREFIXES = {
  user: "user",
  session: "ses",
  account: "acc",
  verification: "ver",
  box: "box",
  credential: "cred",
  aiUsage: "usage",
  email: "email",
  emailSettings: "emailset",
  unroutedEmail: "unrouted",
  cronjob: "cron",
  cronjobExecution: "cronexec",
  agentConfig: "agentcfg",
  envVar: "envvar",
  deploy: "deploy",
  deployStep: "dstep",
  rateLimit: "ratelimit",
  modelRequest: "llmreq",
  run: "run",
  ledgerEntry: "ledger",
  budgetAlert: "budgetalert",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind): string {
  return typeid(ID_PREFIXES[kind]).toString();
}

/** True when `value` is a well-formed TypeID of the given kind. */
export function isId(kind: IdKind, value: string): boolean {
  try {
    return TypeID.fromString(value).getType() === ID_PREFIXES[kind];
  } catch {
    return false;
  }
}
