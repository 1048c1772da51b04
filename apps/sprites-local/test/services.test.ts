import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import type { ServiceLogEvent, Sprite } from "@fly/sprites";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { eventually, freePort, httpServerScript, startHost, type TestHost } from "./helpers.js";

let host: TestHost;

beforeAll(async () => {
  host = await startHost();
});

afterAll(async () => {
  await host.close();
});

async function drain(stream: AsyncIterable<ServiceLogEvent>): Promise<ServiceLogEvent[]> {
  const events: ServiceLogEvent[] = [];
  for await (const event of stream) {
    events.push(event);
  }
  return events;
}

async function startWebService(sprite: Sprite, port: number): Promise<ServiceLogEvent[]> {
  await sprite.filesystem("/home/sprite").writeFile("server.js", httpServerScript(port));
  return drain(
    await sprite.createService("web", { cmd: "node", args: ["server.js"], httpPort: port }, "200ms"),
  );
}

describe("services", () => {
  it("starts a service, streams its output, and reports its state", async () => {
    const sprite = await host.client.createSprite("svc-basic");
    const events = await drain(
      await sprite.createService(
        "echoer",
        { cmd: "bash", args: ["-c", 'echo "hello $GREETING"; exec sleep 1000'], env: { GREETING: "there" } },
        "300ms",
      ),
    );
    expect(events[0]?.type).toBe("started");
    expect(
      events
        .filter((e) => e.type === "stdout")
        .map((e) => e.data)
        .join(""),
    ).toBe("hello there\n");
    expect(events.at(-1)?.type).toBe("complete");

    const service = await sprite.getService("echoer");
    expect(service.state?.status).toBe("running");
    expect(service.state?.pid).toBeGreaterThan(0);
    expect(service.args).toEqual(["-c", 'echo "hello $GREETING"; exec sleep 1000']);
    expect((await sprite.listServices()).map((s) => s.name)).toEqual(["echoer"]);

    const logs = await drain(await sprite.getServiceLogs("echoer"));
    expect(logs.some((e) => e.data === "hello there\n")).toBe(true);

    const stop = await drain(await sprite.stopService("echoer"));
    expect(stop.map((e) => e.type)).toEqual(
      expect.arrayContaining(["stopping", "exit", "stopped", "complete"]),
    );
    expect((await sprite.getService("echoer")).state?.status).toBe("stopped");
    await expect(sprite.stopService("echoer")).rejects.toThrow(/not running/);

    await drain(await sprite.startService("echoer", "100ms"));
    const started = await sprite.getService("echoer");
    expect(started.state?.status).toBe("running");
    const restart = await drain(await sprite.restartService("echoer", "100ms"));
    expect(restart.map((e) => e.type)).toEqual(expect.arrayContaining(["stopping", "stopped", "started"]));
    expect((await sprite.getService("echoer")).state?.pid).not.toBe(started.state?.pid);
    await expect(sprite.deleteService("echoer")).rejects.toThrow(/conflict/i);
    await drain(await sprite.stopService("echoer"));
    await sprite.deleteService("echoer");
    await expect(sprite.getService("echoer")).rejects.toThrow(/not found/i);
  });

  it("restarts a crashing service with backoff", async () => {
    const sprite = await host.client.createSprite("svc-crash");
    // Fails on its first two runs, then stays up.
    const script =
      'n=$(cat ~/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > ~/runs; [ "$n" -ge 3 ] || exit 1; exec sleep 1000';
    await drain(await sprite.createService("flaky", { cmd: "bash", args: ["-c", script] }, "0s"));
    const service = await eventually("flaky to stay up", async () => {
      const current = await sprite.getService("flaky");
      return current.state?.status === "running" && (current.state.restartCount ?? 0) >= 2 ? current : null;
    });
    expect(service.state?.restartCount).toBe(2);
    const runs = await sprite.filesystem("/home/sprite").readFile("runs", "utf8");
    expect(runs.trim()).toBe("3");
  });

  it("starts the services a service needs first", async () => {
    const sprite = await host.client.createSprite("svc-needs");
    await drain(await sprite.createService("db", { cmd: "sleep", args: ["1000"] }, "0s"));
    await drain(await sprite.stopService("db"));
    await drain(await sprite.createService("app", { cmd: "sleep", args: ["1000"], needs: ["db"] }, "0s"));
    expect((await sprite.getService("db")).state?.status).toBe("running");
    await expect(
      sprite.createService("broken", { cmd: "sleep", args: ["1"], needs: ["missing"] }),
    ).rejects.toThrow(/unknown service 'missing'/);
  });
});

describe("sprite URL", () => {
  it("proxies to the service's http_port, with the token when auth is sprite", async () => {
    const sprite = await host.client.createSprite("url-auth");
    const port = await freePort();
    await startWebService(sprite, port);
    const url = (await host.client.getSprite("url-auth")).url ?? "";
    expect(url).toBe(`${host.local.proxyUrl}/proxy/url-auth`);

    const denied = await fetch(`${url}/hello`);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: string }).error).toBe("unauthorized");

    const ok = await eventually("the service to answer", async () => {
      const res = await fetch(`${url}/hello?x=1`, { headers: { authorization: `Bearer ${host.token}` } });
      return res.ok ? res : null;
    });
    const body = (await ok.json()) as { path: string; authorization: string | null };
    expect(body.path).toBe("/hello?x=1");
    // The API token authenticates to the proxy and is not handed to the sprite's program.
    expect(body.authorization).toBeNull();
  });

  it("serves public sprites without a token, also by host name", async () => {
    const sprite = await host.client.createSprite("url-public", { urlSettings: { auth: "public" } });
    const port = await freePort();
    await startWebService(sprite, port);
    const res = await eventually("the public URL", async () => {
      const r = await fetch(`${host.local.proxyUrl}/proxy/url-public/`);
      return r.ok ? r : null;
    });
    expect(((await res.json()) as { path: string }).path).toBe("/");

    // fetch() will not send a custom Host header; a browser resolving url-public.localhost would.
    const byHost = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        {
          host: "127.0.0.1",
          port: host.local.proxyPort,
          path: "/by-host",
          headers: { host: `url-public.localhost:${host.local.proxyPort}` },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => {
            text += chunk.toString("utf8");
          });
          response.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
    });
    expect(JSON.parse(byHost)).toMatchObject({ path: "/by-host" });
  });

  it("streams responses without buffering them", async () => {
    const sprite = await host.client.createSprite("url-stream", { urlSettings: { auth: "public" } });
    const port = await freePort();
    await startWebService(sprite, port);
    const url = `${host.local.proxyUrl}/proxy/url-stream`;
    await eventually("the service", async () => (await fetch(`${url}/`)).ok);
    const res = await fetch(`${url}/stream`);
    const reader = res.body?.getReader();
    if (!reader) {
      throw new Error("no body");
    }
    const decoder = new TextDecoder();
    const first = await reader.read();
    // The upstream has not finished (it waits for /release), yet the first chunk is here.
    expect(decoder.decode(first.value)).toBe("first\n");
    await fetch(`${url}/release`);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += decoder.decode(chunk.value);
    }
    expect(rest).toBe("second\n");
  });

  it("carries WebSocket upgrades through the URL", async () => {
    // The sprite loads `ws` from the host's node_modules, bound read-only like box-agent's dependencies.
    const wsDir = path.dirname(createRequire(import.meta.url).resolve("ws/package.json"));
    const wsHost = await startHost({ readOnlyBinds: [wsDir] });
    try {
      const sprite = await wsHost.client.createSprite("url-ws");
      const port = await freePort();
      await sprite.filesystem("/home/sprite").writeFile(
        "ws-server.js",
        `const { WebSocketServer } = require(${JSON.stringify(wsDir)});
new WebSocketServer({ port: ${port}, host: "127.0.0.1" }).on("connection", (socket, req) => {
  socket.on("message", (data) => socket.send(req.url + " " + data));
});`,
      );
      const events = await sprite.createService(
        "ws",
        { cmd: "node", args: ["ws-server.js"], httpPort: port },
        "0s",
      );
      for await (const _event of events) {
        // Until started.
      }
      const reply = await eventually("an echo over the proxied socket", async () => {
        const socket = new WebSocket(
          `${wsHost.local.proxyUrl.replace("http", "ws")}/proxy/url-ws/chat?room=1`,
          {
            headers: { authorization: `Bearer ${wsHost.token}` },
          },
        );
        return new Promise<string | null>((resolve) => {
          socket.once("open", () => socket.send("hello"));
          socket.once("message", (data: Buffer) => {
            resolve(data.toString("utf8"));
            socket.close();
          });
          socket.once("error", () => resolve(null));
        });
      });
      expect(reply).toBe("/chat?room=1 hello");

      const refused = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`${wsHost.local.proxyUrl.replace("http", "ws")}/proxy/url-ws/chat`);
        socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        socket.once("open", () => resolve(101));
        socket.once("error", () => undefined);
      });
      expect(refused).toBe(401);
    } finally {
      await wsHost.close();
    }
  });

  it("routes to port 8080 when no service declares one, and says so when nothing listens", async () => {
    await host.client.createSprite("url-none", { urlSettings: { auth: "public" } });
    const res = await fetch(`${host.local.proxyUrl}/proxy/url-none/`);
    expect([502]).toContain(res.status);
    expect(((await res.json()) as { message: string }).message).toContain("port 8080");
    const missing = await fetch(`${host.local.proxyUrl}/proxy/no-such-sprite/`);
    expect(missing.status).toBe(404);
  });
});
