import { z } from "zod";

/**
 * Every queue and the jobs it carries. Job data holds ids only: secrets and bodies are read from
 * the database by the worker, so nothing sensitive sits in Redis.
 */
export const QUEUES = {
  deployOrchestrator: "deploy-orchestrator",
  deployCreateSprite: "deploy-create-sprite",
  deploySetup: "deploy-setup",
  deployHealthCheck: "deploy-health-check",
  deploySkillsGate: "deploy-skills-gate",
  deployInstallSkill: "deploy-install-skill",
  deployEnableAccess: "deploy-enable-access",
  deployFinalize: "deploy-finalize",
  deleteBox: "delete-box",
  deliverEmail: "deliver-email",
  sendEmail: "send-email",
  triggerCronjob: "trigger-cronjob",
} as const;

export type QueueKey = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueKey];

const deployStepData = z.object({ boxId: z.string(), deployId: z.string() });

export interface JobDefinition<S extends z.ZodType> {
  queue: QueueKey;
  /** Namespaced job name as BullMQ records it. */
  name: string;
  schema: S;
  attempts: number;
  backoff: { type: "exponential" | "fixed"; delay: number };
  /** Hard limit for one attempt; the worker aborts the attempt after it. */
  timeoutMs: number;
}

function job<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

/** The deploy pipeline's steps: queue, attempts and per-attempt limits, in one place. */
export const DEPLOY_STEP_JOBS = {
  createSprite: job({
    queue: "deployCreateSprite",
    name: "deploy.createSprite",
    schema: deployStepData,
    attempts: 4,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 2 * 60_000,
  }),
  setupStep: job({
    queue: "deploySetup",
    name: "deploy.setupStep",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 3 * 60_000,
  }),
  healthCheck: job({
    queue: "deployHealthCheck",
    name: "deploy.healthCheck",
    schema: deployStepData,
    attempts: 4,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  skillsGate: job({
    queue: "deploySkillsGate",
    name: "deploy.skillsGate",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 1_000 },
    timeoutMs: 30_000,
  }),
  installSkill: job({
    queue: "deployInstallSkill",
    name: "deploy.installSkill",
    schema: deployStepData.extend({ skill: z.string() }),
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  enableAccess: job({
    queue: "deployEnableAccess",
    name: "deploy.enableAccess",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  finalize: job({
    queue: "deployFinalize",
    name: "deploy.finalize",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 1_000 },
    timeoutMs: 30_000,
  }),
} as const;

export type DeployStepKey = keyof typeof DEPLOY_STEP_JOBS;

export const JOBS = {
  deployOrchestrator: job({
    queue: "deployOrchestrator",
    name: "deploy.orchestrator",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 5 * 60_000,
  }),
  deleteBox: job({
    queue: "deleteBox",
    name: "box.delete",
    schema: z.object({ boxId: z.string() }),
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  deliverEmail: job({
    queue: "deliverEmail",
    name: "email.deliver",
    schema: z.object({ emailId: z.string() }),
    // 30 s doubling: the 13th attempt comes about 34 hours after the first, so a box that is down
    // for a day still gets its mail.
    attempts: 13,
    backoff: { type: "exponential", delay: 30_000 },
    timeoutMs: 30_000,
  }),
  sendEmail: job({
    queue: "sendEmail",
    name: "email.send",
    schema: z.object({ emailId: z.string() }),
    attempts: 8,
    backoff: { type: "exponential", delay: 5_000 },
    timeoutMs: 30_000,
  }),
  triggerCronjob: job({
    queue: "triggerCronjob",
    name: "cronjob.trigger",
    schema: z.object({ cronjobId: z.string() }),
    attempts: 1,
    backoff: { type: "fixed", delay: 0 },
    timeoutMs: 5 * 60_000,
  }),
} as const;

export type JobKey = keyof typeof JOBS;
export type JobData<K extends JobKey> = z.infer<(typeof JOBS)[K]["schema"]>;
