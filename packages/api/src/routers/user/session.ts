import { decryptSecret } from "@vps-claude/shared";
import { z } from "zod";
import { deployStepSchema, idParam, sessionListSchema, sessionRunSchema } from "../../schemas";
import { accessPasswordAad } from "../../services/deploy/deploy-step-work";
import { listDeploySteps, stepLabel } from "../../services/deploy/deploy-steps";
import { listBoxSessions, sendBoxSessionMessage } from "../../services/session/box-sessions";
import { ownedBoxProcedure } from "./cronjob";

const boxParams = z.object({ boxId: idParam });

export const deployRouter = {
  access: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/access",
      summary: "The owner's login password for the box (set by the Enable access step; null before it ran)",
      tags: ["Boxes"],
    })
    .input(boxParams)
    .output(z.object({ password: z.string().nullable() }))
    .handler(({ context }) => ({
      password: context.box.accessPassword
        ? decryptSecret(context.deps.keyring, context.box.accessPassword, accessPasswordAad(context.box.id))
        : null,
    })),

  steps: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/deploy-steps",
      summary: "Steps of the box's latest deploy",
      tags: ["Boxes"],
    })
    .input(boxParams)
    .output(z.object({ deployId: z.string().nullable(), steps: z.array(deployStepSchema) }))
    .handler(async ({ context }) => {
      const deployId = context.box.deployId;
      if (!deployId) {
        return { deployId: null, steps: [] };
      }
      const rows = await listDeploySteps({ db: context.deps.db, boxId: context.box.id, deployId });
      return {
        deployId,
        steps: rows.map((row) => ({
          step: row.step,
          label: stepLabel(row.step),
          status: row.status,
          attempt: row.attempt,
          startedAt: row.startedAt,
          completedAt: row.completedAt,
          durationMs: row.durationMs,
          logExcerpt: row.logExcerpt,
          errorMessage: row.errorMessage,
        })),
      };
    }),
};

export const sessionRouter = {
  list: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/sessions",
      summary: "The box's Claude sessions and recent runs",
      tags: ["Sessions"],
    })
    .input(boxParams)
    .output(sessionListSchema)
    .handler(({ context }) => listBoxSessions({ deps: context.deps, target: context.box })),

  send: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/sessions/send",
      summary: "Send a message to a session of the box and wait for Claude's answer",
      tags: ["Sessions"],
    })
    .input(
      boxParams.extend({
        contextId: z
          .string()
          .regex(/^[a-zA-Z0-9_.:-]{1,100}$/, "contextId is 1–100 letters, digits or . _ : -")
          .default("owner"),
        message: z
          .string()
          .trim()
          .min(1, "message must not be empty")
          .max(100_000, "message must be at most 100000 characters"),
      }),
    )
    .output(sessionRunSchema)
    .handler(({ context, input }) =>
      sendBoxSessionMessage({
        deps: context.deps,
        target: context.box,
        contextId: input.contextId,
        message: input.message,
      }),
    ),
};
