import { requestJson, segment } from "./api-client";

/** Everything below mirrors the JSON of packages/api's user routes under /rpc; timestamps are ISO strings. */

export type DeployStepStatus = "pending" | "running" | "completed" | "failed" | "skipped";

export interface DeployStep {
  step: string;
  label: string;
  status: DeployStepStatus;
  attempt: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  logExcerpt: string | null;
  errorMessage: string | null;
}

export interface DeploySteps {
  deployId: string | null;
  steps: DeployStep[];
}

export type ContextType = "session" | "email" | "cron";

export interface SessionRun {
  id: string;
  status: string;
  prompt: string;
  result: string | null;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  error: string | null;
  note: string | null;
}

export interface SessionContext {
  contextType: ContextType;
  contextId: string;
  sessionId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** Newest first, as box-agent lists them; only the latest few. */
  runs: SessionRun[];
}

export interface SendResult {
  runId: string;
  sessionId: string | null;
  status: string;
  result: string | null;
  costUsd: number | null;
  durationMs: number;
  error?: string | null;
  note?: string | null;
}

export const EMAIL_STATUSES = ["received", "queued", "delivered", "sent", "failed", "rejected"] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];
export type EmailDirection = "inbound" | "outbound";

export interface EmailSummary {
  id: string;
  direction: EmailDirection;
  status: EmailStatus;
  threadId: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  attempts: number;
  errorMessage: string | null;
  createdAt: string;
  deliveredAt: string | null;
  sentAt: string | null;
}

export interface EmailAttachment {
  filename: string;
  contentType: string;
  size: number;
}

/** The receiving side's SPF/DKIM/DMARC verdict on an inbound email. */
export interface EmailAuthentication {
  source: "smtp" | "resend" | "none";
  spf: string;
  dkim: string;
  dmarc: string;
  authenticated: boolean;
  domain?: string;
}

export interface EmailDetail extends EmailSummary {
  cc: string[];
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  markdown: string | null;
  provider: string;
  providerMessageId: string | null;
  untrustedSender: boolean;
  /** Inbound only; null for outbound mail and mail stored before senders were checked. */
  authentication: EmailAuthentication | null;
  attachments: EmailAttachment[];
}

export interface EmailFilter {
  direction?: EmailDirection;
  status?: EmailStatus;
  limit?: number;
  before?: string;
}

export type SenderPolicy = "anyone" | "allowlist";

export interface EmailSettings {
  address: string;
  senderPolicy: SenderPolicy;
  allowedSenders: string[];
  blockedSenders: string[];
}

export interface Cronjob {
  id: string;
  boxId: string;
  name: string;
  schedule: string;
  prompt: string;
  timezone: string;
  enabled: boolean;
  lastRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CronjobInput {
  name: string;
  schedule: string;
  prompt: string;
  timezone?: string;
}

export type CronjobExecutionStatus = "pending" | "waking_box" | "running" | "completed" | "failed";

export interface CronjobExecution {
  id: string;
  cronjobId: string;
  status: CronjobExecutionStatus;
  scheduledFor: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  errorMessage: string | null;
  sessionId: string | null;
  resultExcerpt: string | null;
  createdAt: string;
}

export type EnvVarType = "plain" | "secret";

export interface EnvVar {
  key: string;
  type: EnvVarType;
  /** The value of a plain variable; always null for a secret. */
  value: string | null;
  /** A mask such as "••••••••alue" for a secret; null for a plain variable. */
  maskedValue: string | null;
  createdAt: string;
  updatedAt: string;
}

export const TRIGGER_TYPES = ["session", "email", "cron"] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface AgentConfig {
  triggerType: TriggerType;
  model: string;
  systemPrompt: string;
  isDefaultPrompt: boolean;
  mcpServers: Record<string, unknown>;
  updatedAt: string | null;
}

export interface AgentConfigPatch {
  triggerType: TriggerType;
  model?: string;
  /** null puts the default prompt back. */
  systemPrompt?: string | null;
  mcpServers?: Record<string, unknown>;
}

export interface Credential {
  key: string;
  maskedValue: string;
  createdAt: string;
  updatedAt: string;
}

export type FileEntryType = "file" | "dir" | "symlink" | "other";

export interface FileEntry {
  name: string;
  /** Absolute, inside the box's home. */
  path: string;
  type: FileEntryType;
}

export interface DirectoryListing {
  /** The directory's real path, symlinks resolved; directories come first in `entries`. */
  path: string;
  entries: FileEntry[];
}

export type FileEncoding = "utf8" | "base64";

export interface FileContent {
  path: string;
  /** In bytes. */
  size: number;
  /** Text comes as utf8; anything else (images, archives) as base64. */
  encoding: FileEncoding;
  content: string;
}

export interface Skill {
  name: string;
  description: string;
}

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
