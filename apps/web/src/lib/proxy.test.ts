import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyToApiServer } from "./proxy";

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let upstream: http.Server;
let upstreamUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  upstream = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    received.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    if (req.url?.startsWith("/rpc/empty")) {
      res.writeHead(204, { "x-empty": "1" });
      res.end();
      return;
    }
    res.writeHead(201, {
      "content-type": "application/json",
      "set-cookie": ["a=1; Path=/; HttpOnly", "b=2; Path=/; Expires=Wed, 21 Oct 2099 07:28:00 GMT"],
      "x-upstream": "yes",
      "keep-alive": "timeout=5",
    });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function lastReceived(): Received {
  const last = received.at(-1);
  if (!last) {
    throw new Error("the upstream server received nothing");
  }
  return last;
}

function withServerUrl<T>(url: string | undefined, run: () => Promise<T>): Promise<T> {
  const previous = process.env.SERVER_URL;
  if (url === undefined) {
    delete process.env.SERVER_URL;
  } else {
    process.env.SERVER_URL = url;
  }
  return run().finally(() => {
    if (previous === undefined) {
      delete process.env.SERVER_URL;
    } else {
      process.env.SERVER_URL = previous;
    }
  });
}

describe("proxyToApiServer", () => {
  it("forwards method, path, query, streamed body and headers, and returns status, headers and every cookie", async () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('{"name":'));
        controller.enqueue(encoder.encode('"box"}'));
        controller.close();
      },
    });
    const request = new Request("http://localhost:33001/rpc/box/deploy?x=1&y=two", {
      method: "POST",
      body,
      duplex: "half",
      headers: {
        cookie: "better-auth.session_token=abc",
        origin: "http://localhost:33001",
        "content-type": "application/json",
        connection: "keep-alive, x-hop",
        "x-hop": "must not pass",
        "proxy-authorization": "Basic secret",
        te: "trailers",
        "x-forwarded-for": "203.0.113.7",
      },
    } as RequestInit & { duplex: "half" });

    const response = await withServerUrl(upstreamUrl, () => proxyToApiServer(request));

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.getSetCookie()).toEqual([
      "a=1; Path=/; HttpOnly",
      "b=2; Path=/; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
    ]);
    expect(response.headers.get("x-upstream")).toBe("yes");
    expect(response.headers.has("keep-alive")).toBe(false);

    const seen = lastReceived();
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/rpc/box/deploy?x=1&y=two");
    expect(seen.body).toBe('{"name":"box"}');
    expect(seen.headers.cookie).toBe("better-auth.session_token=abc");
    expect(seen.headers.origin).toBe("http://localhost:33001");
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(seen.headers["x-hop"], "headers named in Connection are hop-by-hop").toBeUndefined();
    expect(seen.headers["proxy-authorization"]).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers.host).toBe(new URL(upstreamUrl).host);
    expect(seen.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(seen.headers["x-forwarded-host"]).toBe("localhost:33001");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
  });

  it("passes a bodiless status through without a body", async () => {
    const response = await withServerUrl(upstreamUrl, () =>
      proxyToApiServer(new Request("http://localhost:33001/rpc/empty", { method: "DELETE" })),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get("x-empty")).toBe("1");
    expect(await response.text()).toBe("");
    expect(lastReceived().method).toBe("DELETE");
  });

  it("reads SERVER_URL at request time", async () => {
    const first = await withServerUrl(upstreamUrl, () =>
      proxyToApiServer(new Request("http://localhost:33001/api/auth/get-session")),
    );
    expect(first.status).toBe(201);
    expect(lastReceived().url).toBe("/api/auth/get-session");

    const unreachable = await withServerUrl("http://127.0.0.1:9", () =>
      proxyToApiServer(new Request("http://localhost:33001/api/auth/get-session")),
    );
    expect(unreachable.status).toBe(502);
    const body = (await unreachable.json()) as { code: string; message: string };
    expect(body.code).toBe("BAD_GATEWAY");
    expect(body.message).toMatch(/could not reach the API server/);
  });
});
