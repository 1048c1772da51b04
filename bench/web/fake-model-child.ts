import { anthropicReply, startFakeAnthropic } from "@vps-claude/testing";
import { type FakeModelMessage, type FakeModelSpec, stepText } from "./steps";

/** The box's own MCP tool with the least work behind it: it lists an empty inbox. */
const CHEAP_TOOL = "mcp__box-agent__email_list";

function receiveSpec(): Promise<FakeModelSpec> {
  return new Promise((resolve) => process.once("message", (message: FakeModelSpec) => resolve(message)));
}

/**
 * Runs in a child process forked by main.ts: the fake Messages API as a steady model, in its own
 * event loop as the real API runs elsewhere. Each turn answers after `paceMs` with a numbered line of
 * text and a cheap tool call, so box-agent emits one `text` event per step at an even pace.
 */
const spec = await receiveSpec();
const fake = await startFakeAnthropic({
  respond: async (conversation) => {
    const step = conversation.toolResults().length + 1;
    await new Promise((resolve) => setTimeout(resolve, step === 1 ? spec.firstTurnDelayMs : spec.paceMs));
    if (step > spec.turns) {
      return anthropicReply.text("Done.", { input_tokens: 200, output_tokens: 4 });
    }
    return anthropicReply.toolUse(CHEAP_TOOL, {}, stepText(step, spec.turns));
  },
});
setInterval(() => fake.clearRequests(), 1_000).unref();
process.on("disconnect", () => {
  void fake.close().finally(() => process.exit(0));
});
process.send?.({ type: "ready", url: fake.url } satisfies FakeModelMessage);
