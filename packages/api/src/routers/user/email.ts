import { ownedBoxProcedure } from "../../procedures";
import {
  getEmail,
  getEmailSettings,
  listEmails,
  retryEmail,
  updateEmailSettings,
} from "../../services/email/manage-emails";
import { boxAddress } from "../../services/email/queue-outbound-email";
import { readEmailAttachment } from "../../services/email/read-email-attachment";

const emails = ownedBoxProcedure.email;

export const emailRouter = {
  list: emails.list.handler(({ context, input: { boxId: _, ...filter } }) =>
    listEmails({ deps: context.deps, boxId: context.box.id, filter }),
  ),

  get: emails.get.handler(({ context, input }) =>
    getEmail({ deps: context.deps, boxId: context.box.id, emailId: input.id }),
  ),

  retry: emails.retry.handler(({ context, input }) =>
    retryEmail({ deps: context.deps, boxId: context.box.id, emailId: input.id }),
  ),

  attachment: emails.attachment.handler(({ context, input }) =>
    readEmailAttachment({
      deps: context.deps,
      boxId: context.box.id,
      emailId: input.id,
      index: input.index,
    }),
  ),

  getSettings: emails.getSettings.handler(({ context }) =>
    getEmailSettings({
      deps: context.deps,
      boxId: context.box.id,
      address: boxAddress(context.box, context.deps.config.agentsDomain),
    }),
  ),

  updateSettings: emails.updateSettings.handler(({ context, input: { boxId: _, ...patch } }) =>
    updateEmailSettings({
      deps: context.deps,
      boxId: context.box.id,
      address: boxAddress(context.box, context.deps.config.agentsDomain),
      patch,
    }),
  ),
};
