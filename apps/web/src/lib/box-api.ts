import type { JsonOf, UserInputs, UserOutputs } from "@vps-claude/contract";
import { requestJson, segment } from "./api-client";

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

const box = (boxId: string) => `/rpc/box/${segment(boxId)}`;

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") {
      search.set(name, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const deployApi = {
  steps: (boxId: string) => requestJson<DeploySteps>(`${box(boxId)}/deploy-steps`),
};

export const sessionsApi = {
  list: async (boxId: string) =>
    (await requestJson<{ sessions: SessionContext[] }>(`${box(boxId)}/sessions`)).sessions,
  send: (boxId: string, input: { contextId: string; message: string }) =>
    requestJson<SendResult>(`${box(boxId)}/sessions/send`, { method: "POST", body: input }),
};

export const emailsApi = {
  list: (boxId: string, filter: EmailFilter) =>
    requestJson<EmailSummary[]>(`${box(boxId)}/emails${query({ ...filter })}`),
  get: (boxId: string, id: string) => requestJson<EmailDetail>(`${box(boxId)}/emails/${segment(id)}`),
  retry: (boxId: string, id: string) =>
    requestJson<EmailDetail>(`${box(boxId)}/emails/${segment(id)}/retry`, { method: "POST", body: {} }),
  settings: (boxId: string) => requestJson<EmailSettings>(`${box(boxId)}/email-settings`),
  updateSettings: (boxId: string, patch: Omit<EmailSettings, "address">) =>
    requestJson<EmailSettings>(`${box(boxId)}/email-settings`, { method: "PUT", body: patch }),
};

export const cronjobsApi = {
  list: (boxId: string) => requestJson<Cronjob[]>(`${box(boxId)}/cronjobs`),
  create: (boxId: string, input: CronjobInput) =>
    requestJson<Cronjob>(`${box(boxId)}/cronjobs`, { method: "POST", body: input }),
  update: (boxId: string, id: string, input: Partial<CronjobInput>) =>
    requestJson<Cronjob>(`${box(boxId)}/cronjobs/${segment(id)}`, { method: "PUT", body: input }),
  remove: (boxId: string, id: string) =>
    requestJson<Cronjob>(`${box(boxId)}/cronjobs/${segment(id)}`, { method: "DELETE" }),
  toggle: (boxId: string, id: string, enabled: boolean) =>
    requestJson<Cronjob>(`${box(boxId)}/cronjobs/${segment(id)}/toggle`, {
      method: "POST",
      body: { enabled },
    }),
  executions: (boxId: string, id: string) =>
    requestJson<CronjobExecution[]>(`${box(boxId)}/cronjobs/${segment(id)}/executions?limit=20`),
};

export const envApi = {
  list: (boxId: string) => requestJson<EnvVar[]>(`${box(boxId)}/env`),
  create: (boxId: string, input: { key: string; value: string; type: EnvVarType }) =>
    requestJson<EnvVar>(`${box(boxId)}/env`, { method: "POST", body: input }),
  update: (boxId: string, key: string, input: { value: string; type: EnvVarType }) =>
    requestJson<EnvVar>(`${box(boxId)}/env/${segment(key)}`, { method: "PUT", body: input }),
  remove: (boxId: string, key: string) =>
    requestJson<{ key: string; deleted: true }>(`${box(boxId)}/env/${segment(key)}`, { method: "DELETE" }),
};

export const agentConfigApi = {
  list: (boxId: string) => requestJson<AgentConfig[]>(`${box(boxId)}/agent-config`),
  update: (boxId: string, patch: AgentConfigPatch) =>
    requestJson<AgentConfig>(`${box(boxId)}/agent-config`, { method: "POST", body: patch }),
};

export const filesApi = {
  /** `path` empty lists the home. */
  list: (boxId: string, path: string) =>
    requestJson<DirectoryListing>(`${box(boxId)}/fs/list${query({ path })}`),
  read: (boxId: string, path: string) => requestJson<FileContent>(`${box(boxId)}/fs/read${query({ path })}`),
  /** Creates missing parent directories and replaces an existing file. */
  write: (boxId: string, input: { path: string; content: string; encoding?: FileEncoding }) =>
    requestJson<{ path: string; size: number }>(`${box(boxId)}/fs/write`, { method: "POST", body: input }),
};

export const credentialsApi = {
  list: () => requestJson<Credential[]>("/rpc/credentials"),
  create: (input: { key: string; value: string }) =>
    requestJson<Credential>("/rpc/credentials", { method: "POST", body: input }),
  update: (key: string, value: string) =>
    requestJson<Credential>(`/rpc/credentials/${segment(key)}`, { method: "PUT", body: { value } }),
  remove: (key: string) =>
    requestJson<{ key: string; deleted: true }>(`/rpc/credentials/${segment(key)}`, { method: "DELETE" }),
};

export const skillsApi = {
  list: () => requestJson<Skill[]>("/rpc/skills"),
};
