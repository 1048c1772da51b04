import { anthropicReply, startFakeAnthropic } from "@vps-claude/testing";

/** A model named `…-paced-<ms>ms` answers after that long, as a real model takes time to its first token. */
const PACED_MODEL = /-paced-(\d+)ms$/;

/**
 * Runs in a child process forked by main.ts: the fake Messages API, answering every request with a
 * short streamed message, in its own event loop as the real API runs on someone else's machines.
 */
const fake = await startFakeAnthropic({
  respond: async (_conversation, request) => {
    const delayMs = Number(PACED_MODEL.exec(String(request.body.model ?? ""))?.[1] ?? 0);
    if (delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    return anthropicReply.text("Hello from the fake Messages API, streamed as the real one streams.", {
      input_tokens: 120,
      output_tokens: 18,
    });
  },
});
// It records every request; a long run must not grow without bound.
setInterval(() => fake.clearRequests(), 1_000).unref();
process.on("disconnect", () => {
  void fake.close().finally(() => process.exit(0));
});
process.send?.({ url: fake.url });
