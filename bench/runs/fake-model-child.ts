import { anthropicReply, startFakeAnthropic } from "@vps-claude/testing";

/** What main.ts tells the fake: how many model turns a run takes and how long each one takes. */
export interface FakeModelSpec {
  turns: number;
  paceMs: number;
}

export type FakeModelMessage = { type: "ready"; url: string };

/** The box's own MCP tool with the least work behind it: it lists an empty inbox. */
const CHEAP_TOOL = "mcp__box-agent__email_list";

function receiveSpec(): Promise<FakeModelSpec> {
  return new Promise((resolve) => process.once("message", (message: FakeModelSpec) => resolve(message)));
}

/**
 * Runs in a child process forked by main.ts: the fake Messages API as a steady model. Each turn
 * answers after `paceMs` with a line of text and a call of a cheap tool, so a run emits a `text`, a
 * `tool_use` and a `tool_result` event per turn at an even pace; the last turn only speaks. Its own
 * event loop, as the real API runs on other machines.
 */
const spec = await receiveSpec();
const fake = await startFakeAnthropic({
  respond: async (conversation) => {
    await new Promise((resolve) => setTimeout(resolve, spec.paceMs));
    const turn = conversation.toolResults().length + 1;
    if (turn >= spec.turns) {
      return anthropicReply.text(`Finished after ${turn} steps.`, { input_tokens: 200, output_tokens: 12 });
    }
    return anthropicReply.toolUse(
      CHEAP_TOOL,
      {},
      `Step ${turn} of ${spec.turns}: looking at the inbox again.`,
    );
  },
});
// It records every request; a long run must not grow without bound.
setInterval(() => fake.clearRequests(), 1_000).unref();
process.on("disconnect", () => {
  void fake.close().finally(() => process.exit(0));
});
process.send?.({ type: "ready", url: fake.url } satisfies FakeModelMessage);
