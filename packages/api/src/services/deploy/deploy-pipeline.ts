import { JOBS } from "@vps-claude/queue";
import {
  createSpriteStep,
  enableAccessStep,
  finalizeStep,
  healthCheckStep,
  installSkillStep,
  setupStep,
} from "./deploy-step-work";
import { orchestrateDeploy } from "./orchestrate-deploy";
import { type DeployPipeline, deployStepLabel } from "./pipeline";

const exponential = (delay: number) => ({ type: "exponential" as const, delay });

/**
 * The deploy pipeline, in order: the flow, the box page's step rows and labels, the job options
 * and the workers all come from this table. Adding a step is adding an entry.
 */
export const DEPLOY_PIPELINE: DeployPipeline = [
  {
    key: "orchestrator",
    label: "Prepare deploy",
    // The entry is queued by routes (enqueueDeploy), so its job lives in the queue catalog.
    job: JOBS.deployOrchestrator,
    run: async ({ deps, current, deployId, pipeline }) => {
      const result = await orchestrateDeploy({
        db: deps.db,
        queues: deps.queues,
        pipeline,
        boxId: current.id,
        deployId,
      });
      return result.started
        ? { log: "deploy planned and queued" }
        : { status: "skipped", log: result.reason };
    },
  },
  {
    key: "createSprite",
    label: "Create sandbox",
    job: { queue: "deploy-create-sprite", attempts: 4, backoff: exponential(2_000), timeoutMs: 2 * 60_000 },
    run: (ctx) => createSpriteStep(ctx, ctx.current),
  },
  {
    key: "setupStep",
    label: "Install box-agent",
    job: { queue: "deploy-setup", attempts: 3, backoff: exponential(2_000), timeoutMs: 3 * 60_000 },
    run: (ctx) => setupStep(ctx, ctx.current),
  },
  {
    key: "healthCheck",
    label: "Health check",
    job: { queue: "deploy-health-check", attempts: 4, backoff: exponential(2_000), timeoutMs: 60_000 },
    run: (ctx) => healthCheckStep(ctx, ctx.current),
  },
  {
    key: "skillsGate",
    label: "Skills",
    job: { queue: "deploy-skills-gate", attempts: 3, backoff: exponential(1_000), timeoutMs: 30_000 },
    run: async ({ runChildren }) => {
      const skills = await runChildren();
      return { log: skills.length === 0 ? "no skills to install" : `installed ${skills.join(", ")}` };
    },
    fanOut: {
      key: "installSkill",
      label: (skill) => `Install skill ${skill}`,
      job: { queue: "deploy-install-skill", attempts: 3, backoff: exponential(2_000), timeoutMs: 60_000 },
      items: (current) => current.skills,
      run: (ctx, skill) => installSkillStep(ctx, ctx.current, skill),
    },
  },
  {
    key: "enableAccess",
    label: "Enable access",
    job: { queue: "deploy-enable-access", attempts: 3, backoff: exponential(2_000), timeoutMs: 60_000 },
    run: (ctx) => enableAccessStep(ctx, ctx.current),
  },
  {
    key: "finalize",
    label: "Finalize",
    job: { queue: "deploy-finalize", attempts: 3, backoff: exponential(1_000), timeoutMs: 30_000 },
    run: (ctx) => finalizeStep(ctx, ctx.current, ctx.deployId),
  },
];

/** How the box page names a step row of the deploy pipeline. */
export const stepLabel = (step: string) => deployStepLabel(DEPLOY_PIPELINE, step);
