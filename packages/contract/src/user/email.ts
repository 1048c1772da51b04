import { oc } from "@orpc/contract";
import { z } from "zod";
import { boxParams, idParam } from "../schemas/common";
import {
  attachmentIndex,
  emailAttachmentDownloadSchema,
  emailDetailSchema,
  emailListFilter,
  emailSettingsSchema,
  emailSummarySchema,
  updateEmailSettingsInput,
} from "../schemas/email";

const tags = ["Email"];
const emailParams = boxParams.extend({ id: idParam });

export const emailContract = {
  list: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/emails",
      summary: "List a box's emails, in and out, newest first",
      tags,
    })
    .input(boxParams.extend(emailListFilter.shape))
    .output(z.array(emailSummarySchema)),

  get: oc
    .route({ method: "GET", path: "/box/{boxId}/emails/{id}", summary: "Read one email", tags })
    .input(emailParams)
    .output(emailDetailSchema),

  retry: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/emails/{id}/retry",
      summary: "Retry a failed email: a new run for one whose run failed, else deliver or send it again",
      description:
        "Inbound, delivered, run failed, interrupted or cancelled → a new run (its `retryOf` is the last run; `runId` names it). " +
        "Inbound, never delivered → delivered again. Outbound → sent again, within the box's hourly recipient limit. " +
        "Only a `failed` email may be retried (409 otherwise, and while its run is still going).",
      tags,
    })
    .input(emailParams)
    .output(emailDetailSchema),

  attachment: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/emails/{id}/attachments/{index}",
      summary: "Download one attachment of an email (its place in the email's `attachments`, from 0)",
      description:
        "Answers the stored bytes as a download (`Content-Disposition: attachment`). The stored content type is " +
        "kept when a browser cannot run it (images other than SVG, PDF, plain text, audio, video, archives…); " +
        "anything else is `application/octet-stream`. 404 for an index the email does not have.",
      outputStructure: "detailed",
      tags,
    })
    .input(emailParams.extend({ index: attachmentIndex }))
    .output(emailAttachmentDownloadSchema),

  getSettings: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/email-settings",
      summary: "The box's address and sender rules",
      tags,
    })
    .input(boxParams)
    .output(emailSettingsSchema),

  updateSettings: oc
    .route({
      method: "PUT",
      path: "/box/{boxId}/email-settings",
      summary: "Change who may email the box",
      tags,
    })
    .input(boxParams.extend(updateEmailSettingsInput.shape))
    .output(emailSettingsSchema),
};
