import http from "node:http";
import { startHost } from "./test/helpers.js";

const host = await startHost();
await host.client.createSprite("url-public", { urlSettings: { auth: "public" } });
const text = await new Promise<string>((resolve) =>
  http.get(
    {
      host: "127.0.0.1",
      port: host.local.port,
      path: "/by-host",
      headers: { host: `url-public.localhost:${host.local.port}` },
    },
    (res) => {
      let t = "";
      res.on("data", (c) => (t += c));
      res.on("end", () => resolve(res.statusCode + " " + JSON.stringify(res.headers) + t));
    },
  ),
);
console.log(text);
await host.close();
