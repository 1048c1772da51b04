import { oc } from "@orpc/contract";
import { boxParams } from "../schemas/common";
import { boxAccessSchema, deployStepsSchema } from "../schemas/deploy";
import { sendSessionMessageInput, sessionListSchema, sessionRunSchema } from "../schemas/session";

export const deployContract = {
  access: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/access",
      summary: "The owner's login password for the box (set by the Enable access step; null before it ran)",
      tags: ["Boxes"],
    })
    .input(boxParams)
    .output(boxAccessSchema),

  steps: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/deploy-steps",
      summary: "Steps of the box's latest deploy",
      tags: ["Boxes"],
    })
    .input(boxParams)
    .output(deployStepsSchema),
};

export const sessionContract = {
  list: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/sessions",
      summary: "The box's Claude sessions and recent runs",
      tags: ["Sessions"],
    })
    .input(boxParams)
    .output(sessionListSchema),

  send: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/sessions/send",
      summary: "Send a message to a session of the box and wait for Claude's answer",
      tags: ["Sessions"],
    })
    .input(boxParams.extend(sendSessionMessageInput.shape))
    .output(sessionRunSchema),
};
