import { startFakeResend } from "@vps-claude/testing";
import type { FakeResendMessage, FakeResendRequest, PreparedWebhook } from "./fake-resend-process";

/** Runs in a child process forked by `startFakeResendProcess`. */
const resend = await startFakeResend();
const reply = (message: FakeResendMessage) => process.send?.(message);

process.on("message", (request: FakeResendRequest) => {
  if (request.type === "close") {
    void resend.close().finally(() => process.exit(0));
    return;
  }
  const { count, to, secret, subjectPrefix } = request.options;
  const webhooks: PreparedWebhook[] = [];
  for (let index = 0; index < count; index++) {
    const emailId = resend.addInboundEmail({
      from: `Sender ${index} <sender-${index}@example.com>`,
      to: [to],
      subject: `${subjectPrefix} ${index}`,
      text: `Message ${index} of ${count}: a short, plain note such as a person would send.`,
    });
    const hook = resend.signedEmailReceivedWebhook(emailId, { secret });
    webhooks.push({ emailId, body: hook.body, headers: { ...hook.headers } });
  }
  reply({ type: "prepared", id: request.id, webhooks });
});
// The parent going away (Ctrl-C, a crash) takes this process with it.
process.on("disconnect", () => process.exit(0));
reply({ type: "ready", url: resend.url, apiKey: resend.apiKey });
