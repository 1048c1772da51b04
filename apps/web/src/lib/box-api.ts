import type { JsonOf, UserInputs, UserOutputs } from "@vps-claude/contract";

/** The JSON of the user routes under /rpc, typed from `userContract`; timestamps are ISO strings. */
type Out = {
  [Group in keyof UserOutputs]: { [Route in keyof UserOutputs[Group]]: JsonOf<UserOutputs[Group][Route]> };
};
type In = UserInputs;

export type DeploySteps = Out["deploy"]["steps"];
export type DeployStep = DeploySteps["steps"][number];
export type DeployStepStatus = DeployStep["status"];

type RecordedContext = Out["session"]["list"]["sessions"][number];
type RecordedRun = RecordedContext["runs"][number];
export type SendResult = Out["session"]["send"];
/** What the chat shows of a run; a run it just sent is added with the status the send answered. */
export type SessionRun = Pick<
  RecordedRun,
  "id" | "prompt" | "result" | "startedAt" | "completedAt" | "durationMs" | "costUsd" | "error" | "note"
> & { status: RecordedRun["status"] | SendResult["status"] };
export type SessionContext = Omit<RecordedContext, "runs"> & { runs: SessionRun[] };
export type ContextType = SessionContext["contextType"];

/** Type-only imports keep the contract (zod, node:url) out of the browser bundle; the compiler checks the list. */
export const EMAIL_STATUSES = [
  "received",
  "queued",
  "delivered",
  "processed",
  "sent",
  "failed",
  "rejected",
] as const satisfies readonly EmailStatus[];
export type EmailSummary = Out["email"]["list"][number];
export type EmailStatus = EmailSummary["status"];
export type EmailDirection = EmailSummary["direction"];
export type EmailDetail = Out["email"]["get"];
export type EmailAttachment = EmailDetail["attachments"][number];
/** The receiving side's SPF/DKIM/DMARC verdict on an inbound email. */
export type EmailAuthentication = NonNullable<EmailDetail["authentication"]>;
export type EmailFilter = Pick<Partial<In["email"]["list"]>, "direction" | "status" | "before"> & {
  limit?: number;
};
export type EmailSettings = Out["email"]["getSettings"];
export type SenderPolicy = EmailSettings["senderPolicy"];

export type Cronjob = Out["cronjob"]["create"];
export type CronjobInput = Omit<In["cronjob"]["create"], "boxId" | "enabled">;
export type CronjobExecution = Out["cronjob"]["executions"][number];
export type CronjobExecutionStatus = CronjobExecution["status"];
export type CronjobOverlap = Cronjob["overlap"];
export type CronjobSessionMode = Cronjob["session"];
export const CRONJOB_OVERLAPS = ["skip", "queue"] as const satisfies readonly CronjobOverlap[];
export const CRONJOB_SESSION_MODES = ["fresh", "continue"] as const satisfies readonly CronjobSessionMode[];

export type EnvVar = Out["envVar"]["create"];
export type EnvVarType = EnvVar["type"];

export const TRIGGER_TYPES = ["session", "email", "cron"] as const satisfies readonly TriggerType[];
export type AgentConfig = Out["agentConfig"]["update"];
export type TriggerType = AgentConfig["triggerType"];
/** `mcpServers` is the JSON the owner typed: the server checks it against the contract and names what is wrong. */
export type AgentConfigPatch = Omit<In["agentConfig"]["update"], "boxId" | "mcpServers"> & {
  mcpServers?: Record<string, unknown>;
};

export type Credential = Out["credential"]["create"];

export type DirectoryListing = Out["files"]["list"];
export type FileEntry = DirectoryListing["entries"][number];
export type FileEntryType = FileEntry["type"];
export type FileContent = Out["files"]["read"];
export type FileEncoding = FileContent["encoding"];

export type Skill = Out["box"]["skills"][number];
