import type { box } from "@vps-claude/db";
import { bullJobOptions, type JobOptions, type QueueJob } from "@vps-claude/queue";
import type { FlowJob } from "bullmq";
import { z } from "zod";
import type { ApiDeps } from "../../deps";
import type { DeployRuntime } from "./deploy-runtime";

export type CurrentBox = typeof box.$inferSelect;

export interface StepOutcome {
  /** Shown on the box page as the step's log excerpt. */
  log?: string;
  status?: "completed" | "skipped";
}

export interface StepDeps {
  deps: ApiDeps;
  runtime: DeployRuntime;
}

/** What a step's `run` is given: the platform, the box as it is now, and its deploy. */
export interface StepContext extends StepDeps {
  current: CurrentBox;
  deployId: string;
  /** The pipeline being run; the entry step plans the rows and the flow from it. */
  pipeline: DeployPipeline;
  /**
   * Runs this step's fan-out: one child job per item, in parallel; resolves with the items once all
   * are done (until then the step waits and is run again). Only for a step with `fanOut`.
   */
  runChildren(): Promise<string[]>;
}

export interface DeployStepJob extends JobOptions {
  /** The BullMQ queue the step's jobs run on. */
  queue: string;
}

/** A fan-out's children: one job and one row (`${key}:${item}`) per item, e.g. a skill. */
export interface FanOut {
  key: string;
  label(item: string): string;
  job: DeployStepJob;
  /** The items, read from the box when the deploy is planned and when the children are added. */
  items(current: CurrentBox): string[];
  run(ctx: StepContext, item: string): Promise<StepOutcome | undefined>;
}

export interface DeployStep {
  /** The step's row name (box_deploy_step.step); job names and ids derive from it. */
  key: string;
  label: string;
  job: DeployStepJob;
  run(ctx: StepContext): Promise<StepOutcome | undefined>;
  /** Children this step adds when it runs (its `run` calls `runChildren`); their rows follow its own. */
  fanOut?: FanOut;
}

/**
 * A pipeline is a table. The first step is the entry: routes queue it (enqueueDeploy) and its run
 * plans the rows and adds the flow of all the others, which run one after another in table order.
 */
export type DeployPipeline = readonly [DeployStep, ...DeployStep[]];

export const deployJobData = z.object({ boxId: z.string(), deployId: z.string() });
export const fanOutJobData = deployJobData.extend({ item: z.string() });
export type DeployJobData = z.infer<typeof deployJobData> & { item?: string };

export const deployJobName = (key: string) => `deploy.${key}`;
export const fanOutRowName = (fanOut: Pick<FanOut, "key">, item: string) => `${fanOut.key}:${item}`;

/** Job ids are derived from the deploy id, so re-adding the flow after a crash adds nothing twice. */
export const stepJobId = (deployId: string, step: string) =>
  `${deployId}-${step.replace(/[^a-zA-Z0-9_-]/g, "_")}`;

/** The step rows of a deploy, in the order the box page shows them. */
export function deployStepRows(pipeline: DeployPipeline, current: CurrentBox): string[] {
  return pipeline.flatMap(({ key, fanOut }) => [
    key,
    ...(fanOut ? fanOut.items(current).map((item) => fanOutRowName(fanOut, item)) : []),
  ]);
}

export function deployStepLabel(pipeline: DeployPipeline, row: string): string {
  for (const { key, label, fanOut } of pipeline) {
    if (key === row) {
      return label;
    }
    if (fanOut && row.startsWith(fanOutRowName(fanOut, ""))) {
      return fanOut.label(row.slice(fanOut.key.length + 1));
    }
  }
  return row;
}

/** What BullMQ is told about one step's job inside the flow. */
export function stepJobOptions(job: DeployStepJob, jobId: string) {
  return {
    ...bullJobOptions(job),
    jobId,
    // A step that has failed for good fails the steps after it instead of leaving them waiting forever.
    failParentOnFailure: true,
  };
}

/**
 * The pipeline after its entry as a BullMQ flow. BullMQ runs children before parents, so the chain
 * is nested from the last step down; a fan-out step adds its children at run time.
 */
export function buildDeployFlow(pipeline: DeployPipeline, data: z.infer<typeof deployJobData>): FlowJob {
  const [, ...chain] = pipeline;
  let node: FlowJob | undefined;
  for (const step of chain) {
    node = {
      name: deployJobName(step.key),
      queueName: step.job.queue,
      data,
      opts: stepJobOptions(step.job, stepJobId(data.deployId, step.key)),
      children: node ? [node] : undefined,
    };
  }
  if (!node) {
    throw new Error("a deploy pipeline needs a step after its entry");
  }
  return node;
}

/** One queue of the pipeline and what its worker runs. */
export type DeployQueue = (
  | { kind: "step"; step: DeployStep; schema: typeof deployJobData }
  | { kind: "fanOut"; step: DeployStep; fanOut: FanOut; schema: typeof fanOutJobData }
) & { job: QueueJob; entry: boolean };

/** Every queue the pipeline runs on, with its job definition: what the workers are started from. */
export function deployQueues(pipeline: DeployPipeline): DeployQueue[] {
  return pipeline.flatMap((step, index): DeployQueue[] => [
    {
      kind: "step",
      step,
      schema: deployJobData,
      job: { ...step.job, name: deployJobName(step.key) },
      entry: index === 0,
    },
    ...(step.fanOut
      ? [
          {
            kind: "fanOut" as const,
            step,
            fanOut: step.fanOut,
            schema: fanOutJobData,
            job: { ...step.fanOut.job, name: deployJobName(step.fanOut.key) },
            entry: false,
          },
        ]
      : []),
  ]);
}
