import { rmSync } from "node:fs";
import { type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RESTART_INTERRUPTION } from "../src/agent/runner";
import { type FakePlatform, startFakePlatform } from "./fake-platform";
import {
  type BoxAgentProcess,
  buildTestBundle,
  NODE_MODULES,
  processesWorkingIn,
  startBundleProcess,
  writeBoxHome,
} from "./harness";
import { boxClient, dispatch, doneOf, followEvents, runRequest } from "./runs";

/**
 * The durable queue across a crash: a real box-agent process (the bundle, as a sandbox runs it) with
 * one run in flight and two queued is SIGKILLed, then started again on the same home.
 */

let bundle: Awaited<ReturnType<typeof buildTestBundle>>;
let fake: FakeAnthropic;
let platform: FakePlatform;
let home: string;
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => {
  release = resolve;
});
const daemons: BoxAgentProcess[] = [];

const echo = scriptedClaude();

beforeAll(async () => {
  bundle = await buildTestBundle();
  // A prompt with SLOW is never answered while the test runs: its run is the one in flight.
  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      if ((conversation.lastUserText() ?? "").includes("SLOW")) {
        await held;
      }
      return echo(conversation);
    },
  });
  platform = await startFakePlatform();
  home = writeBoxHome({ platform, anthropicUrl: fake.url });
});

afterAll(async () => {
  for (const daemon of daemons) {
    daemon.child.kill("SIGKILL");
    await daemon.exited;
  }
  release();
  await fake.close();
  await platform.close();
  rmSync(bundle.dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

async function startDaemon(): Promise<{ daemon: BoxAgentProcess; url: string }> {
  const daemon = startBundleProcess(bundle.bundle, home, { NODE_PATH: NODE_MODULES });
  daemons.push(daemon);
  return { daemon, url: `http://127.0.0.1:${await daemon.port}` };
}

describe("box-agent killed with runs in flight and queued", () => {
  it("records the run in flight as interrupted, stops its leftover Claude, and runs the queued ones", async () => {
    let url = "";
    const box = boxClient(() => url, platform.boxSecret);
    const first = await startDaemon();
    url = first.url;

    const inFlight = runRequest({ contextId: "night", message: "SLOW research" });
    const queuedA = runRequest({ contextId: "night", message: "summary one" });
    const queuedB = runRequest({ contextId: "night", message: "summary two" });
    for (const request of [inFlight, queuedA, queuedB]) {
      await dispatch(box, request);
    }
    await vi.waitFor(
      () =>
        expect(fake.messageRequests().some((r) => r.headers["x-vps-run-id"] === inFlight.runId)).toBe(true),
      { timeout: 30_000, interval: 50 },
    );

    first.daemon.child.kill("SIGKILL");
    expect((await first.daemon.exited).signal).toBe("SIGKILL");

    const second = await startDaemon();
    url = second.url;
    const interrupted = doneOf(await (await followEvents(box, inFlight.runId)).closed);
    expect(interrupted).toMatchObject({ status: "interrupted", error: RESTART_INTERRUPTION, result: null });

    const endA = doneOf(await (await followEvents(box, queuedA.runId)).closed);
    const endB = doneOf(await (await followEvents(box, queuedB.runId)).closed);
    expect(endA, JSON.stringify(endA)).toMatchObject({
      status: "completed",
      result: "You said: summary one",
    });
    expect(endB, JSON.stringify(endB)).toMatchObject({
      status: "completed",
      result: "You said: summary two",
    });
    // One after another in their thread, each continuing the session the interrupted run began.
    expect(endB.sessionId).toBe(endA.sessionId);
    expect(fake.messageRequests().at(-1)?.conversation.userTexts()).toEqual([
      "SLOW research",
      "summary one",
      "summary two",
    ]);

    // Nothing of the first daemon's run is left (its Claude Code either noticed its parent was gone or
    // was killed at restart): only the running daemon itself works in the box's home.
    await vi.waitFor(
      () => expect(processesWorkingIn(home).filter((pid) => pid !== second.daemon.child.pid)).toEqual([]),
      { timeout: 15_000 },
    );

    second.daemon.child.kill("SIGTERM");
    const { code, stderr } = await second.daemon.exited;
    expect(code, stderr).toBe(0);
  }, 180_000);
});
