import type { Sprite } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, startHost, type TestHost } from "./helpers.js";

/**
 * A box binds a sleeping neighbour's box-agent port hoping to receive its traffic (and its token)
 * when it wakes. With a namespace per sprite the bind succeeds, in the squatter's own namespace only.
 */

let host: TestHost;
let victim: Sprite;
let squatter: Sprite;
let port: number;

function agentScript(who: string): string {
  return `require("http").createServer((q,s)=>{process.stdout.write("request "+q.url+" auth="+(q.headers.authorization||"none")+"\\n");s.end("${who}")}).listen(${port},"127.0.0.1",()=>process.stdout.write("listening\\n"))`;
}

beforeAll(async () => {
  host = await startHost({ idleMs: 300, coldAfterMs: 300 });
  victim = await host.client.createSprite("squat-victim");
  squatter = await host.client.createSprite("squat-attacker");
  port = await freePort();
  for await (const _event of await victim.createService(
    "agent",
    { cmd: "node", args: ["-e", agentScript("victim")], httpPort: port },
    "0s",
  )) {
    // Wait out the start-up window.
  }
}, 60_000);

afterAll(async () => {
  await host.close();
});

describe("port squatting", () => {
  it("a neighbour binding a sleeping sprite's port receives none of its traffic", async () => {
    expect(host.local.networkMode).toBe("netns");
    const url = `${host.local.proxyUrl}/proxy/squat-victim/first`;
    const auth = { authorization: `Bearer ${host.token}` };
    const first = await eventually("the victim to answer", async () => {
      const res = await fetch(url, { headers: auth });
      return res.status === 200 ? res.text() : null;
    });
    expect(first).toBe("victim");

    // The squatter holds the same port number for as long as its exec runs (which keeps it awake).
    const squat = squatter.spawn("node", ["-e", agentScript("squatter")]);
    const seen: string[] = [];
    squat.stdout.on("data", (chunk: Buffer) => seen.push(chunk.toString("utf8")));
    squat.stderr.on("data", (chunk: Buffer) => seen.push(chunk.toString("utf8")));
    await eventually("the squatter to bind the victim's port", async () =>
      seen.join("").includes("listening"),
    );

    await eventually(
      "the victim to go cold",
      async () => (await host.client.getSprite("squat-victim")).status === "cold",
    );

    const woken = await fetch(`${host.local.proxyUrl}/proxy/squat-victim/after-wake`, { headers: auth });
    expect(woken.status).toBe(200);
    expect(await woken.text()).toBe("victim");
    expect(seen.join("")).not.toContain("request");
    expect(seen.join("")).not.toContain(host.token);

    squat.kill("SIGKILL");
    await squat.wait().catch(() => undefined);
  });
});
