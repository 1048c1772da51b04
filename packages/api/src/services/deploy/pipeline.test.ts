import type { FlowJob } from "bullmq";
import { describe, expect, it } from "vitest";
import { DEPLOY_PIPELINE } from "./deploy-pipeline";
import {
  buildDeployFlow,
  type CurrentBox,
  type DeployPipeline,
  type DeployStep,
  deployQueues,
  deployStepLabel,
  deployStepRows,
} from "./pipeline";

const aBox = (skills: string[]): CurrentBox => ({
  id: "box_test",
  userId: "user_test",
  name: "Test",
  subdomain: "test-abcd",
  status: "deploying",
  errorMessage: null,
  spriteName: null,
  spriteUrl: null,
  skills,
  deployId: "dep_1",
  accessPassword: null,
  networkPolicy: { mode: "internet", domains: [] },
  lastDeployedAt: null,
  monthlyBudgetUsd: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const done = async () => ({ log: "done" });

function step(key: string, queue: string, attempts: number, fanOut?: DeployStep["fanOut"]): DeployStep {
  return {
    key,
    label: `Label of ${key}`,
    job: { queue, attempts, backoff: { type: "fixed", delay: 10 * attempts }, timeoutMs: 1_000 },
    run: done,
    fanOut,
  };
}

/** A pipeline of another shape than the deploy one: the fan-out comes first and feeds two more steps. */
const OTHER: DeployPipeline = [
  step("start", "q-start", 1),
  step("gate", "q-gate", 2, {
    key: "child",
    label: (item) => `Child ${item}`,
    job: { queue: "q-child", attempts: 5, backoff: { type: "fixed", delay: 1 }, timeoutMs: 1_000 },
    items: (current) => current.skills.map((skill) => skill.toUpperCase()),
    run: done,
  }),
  step("middle", "q-middle", 3),
  step("last", "q-last", 4),
];

/** The chain of a flow from the root (last to run) down to the first step to run. */
function chainOf(flow: FlowJob): FlowJob[] {
  const chain: FlowJob[] = [flow];
  let node = flow;
  while (node.children?.length) {
    expect(node.children).toHaveLength(1);
    node = node.children[0] as FlowJob;
    chain.push(node);
  }
  return chain;
}

describe("a pipeline table", () => {
  it("yields the flow: every step after the entry, the first to run nested deepest, with its job options", () => {
    const chain = chainOf(buildDeployFlow(OTHER, { boxId: "box_test", deployId: "dep_1" })).reverse();
    expect(chain.map((node) => [node.name, node.queueName])).toEqual([
      ["deploy.gate", "q-gate"],
      ["deploy.middle", "q-middle"],
      ["deploy.last", "q-last"],
    ]);
    expect(chain.map((node) => node.opts?.jobId)).toEqual(["dep_1-gate", "dep_1-middle", "dep_1-last"]);
    expect(chain.map((node) => [node.opts?.attempts, node.opts?.backoff])).toEqual([
      [2, { type: "fixed", delay: 20 }],
      [3, { type: "fixed", delay: 30 }],
      [4, { type: "fixed", delay: 40 }],
    ]);
    expect(chain.every((node) => node.opts?.failParentOnFailure === true)).toBe(true);
    expect(
      chain.every((node) => JSON.stringify(node.data) === '{"boxId":"box_test","deployId":"dep_1"}'),
    ).toBe(true);
  });

  it("yields the rows: each step, its fan-out's children right after it", () => {
    expect(deployStepRows(OTHER, aBox(["a", "b"]))).toEqual([
      "start",
      "gate",
      "child:A",
      "child:B",
      "middle",
      "last",
    ]);
    expect(deployStepRows(OTHER, aBox([]))).toEqual(["start", "gate", "middle", "last"]);
  });

  it("yields the labels, a fan-out child's from its item, an unknown row as itself", () => {
    expect(deployStepLabel(OTHER, "middle")).toBe("Label of middle");
    expect(deployStepLabel(OTHER, "child:A")).toBe("Child A");
    expect(deployStepLabel(OTHER, "nope")).toBe("nope");
  });

  it("yields one worker queue per step and fan-out, the entry marked", () => {
    expect(
      deployQueues(OTHER).map((queue) => [queue.job.queue, queue.job.name, queue.kind, queue.entry]),
    ).toEqual([
      ["q-start", "deploy.start", "step", true],
      ["q-gate", "deploy.gate", "step", false],
      ["q-child", "deploy.child", "fanOut", false],
      ["q-middle", "deploy.middle", "step", false],
      ["q-last", "deploy.last", "step", false],
    ]);
  });

  it("refuses a pipeline with nothing after its entry", () => {
    expect(() => buildDeployFlow([step("only", "q-only", 1)], { boxId: "b", deployId: "d" })).toThrow(
      /needs a step after its entry/,
    );
  });
});

describe("the deploy pipeline", () => {
  it("labels its rows as the box page shows them (the e2e test checks the rows it plans)", () => {
    expect(deployStepLabel(DEPLOY_PIPELINE, "installSkill:note-keeper")).toBe("Install skill note-keeper");
    expect(deployStepLabel(DEPLOY_PIPELINE, "setupStep")).toBe("Install box-agent");
  });

  it("keeps the queue names deploys already in Redis are waiting on", () => {
    expect(deployQueues(DEPLOY_PIPELINE).map((queue) => queue.job.queue)).toEqual([
      "deploy-orchestrator",
      "deploy-create-sprite",
      "deploy-setup",
      "deploy-health-check",
      "deploy-skills-gate",
      "deploy-install-skill",
      "deploy-enable-access",
      "deploy-finalize",
    ]);
    const names = deployQueues(DEPLOY_PIPELINE).map((queue) => queue.job.queue);
    expect(new Set(names).size).toBe(names.length);
  });
});
