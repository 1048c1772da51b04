import { z } from "zod";
import {
  emailDetailSchema,
  emailSettingsSchema,
  emailStatusSchema,
  emailSummarySchema,
  idParam,
  updateEmailSettingsInput,
} from "../../schemas";
import {
  getEmail,
  getEmailSettings,
  listEmails,
  retryEmail,
  updateEmailSettings,
} from "../../services/email/manage-emails";
import { boxAddress } from "../../services/email/queue-outbound-email";
import { ownedBoxProcedure } from "./cronjob";

const tags = ["Email"];
const boxParams = z.object({ boxId: idParam });
const emailParams = boxParams.extend({ id: idParam });

export const emailRouter = {
  list: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/emails",
      summary: "List a box's emails, in and out, newest first",
      tags,
    })
    .input(
      boxParams.extend({
        direction: z.enum(["inbound", "outbound"]).optional(),
        status: emailStatusSchema.optional(),
        threadId: z.string().max(1000).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: idParam.optional(),
      }),
    )
    .output(z.array(emailSummarySchema))
    .handler(({ context, input: { boxId: _, ...filter } }) =>
      listEmails({ deps: context.deps, boxId: context.box.id, filter }),
    ),

  get: ownedBoxProcedure
    .route({ method: "GET", path: "/box/{boxId}/emails/{id}", summary: "Read one email", tags })
    .input(emailParams)
    .output(emailDetailSchema)
    .handler(({ context, input }) =>
      getEmail({ deps: context.deps, boxId: context.box.id, emailId: input.id }),
    ),

  retry: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/emails/{id}/retry",
      summary: "Retry a failed delivery or send",
      tags,
    })
    .input(emailParams)
    .output(emailDetailSchema)
    .handler(({ context, input }) =>
      retryEmail({ deps: context.deps, boxId: context.box.id, emailId: input.id }),
    ),

  getSettings: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/email-settings",
      summary: "The box's address and sender rules",
      tags,
    })
    .input(boxParams)
    .output(emailSettingsSchema)
    .handler(({ context }) =>
      getEmailSettings({
        deps: context.deps,
        boxId: context.box.id,
        address: boxAddress(context.box, context.deps.config.agentsDomain),
      }),
    ),

  updateSettings: ownedBoxProcedure
    .route({
      method: "PUT",
      path: "/box/{boxId}/email-settings",
      summary: "Change who may email the box",
      tags,
    })
    .input(boxParams.extend(updateEmailSettingsInput.shape))
    .output(emailSettingsSchema)
    .handler(({ context, input: { boxId: _, ...patch } }) =>
      updateEmailSettings({
        deps: context.deps,
        boxId: context.box.id,
        address: boxAddress(context.box, context.deps.config.agentsDomain),
        patch,
      }),
    ),
};
