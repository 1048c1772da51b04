import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";
import { connectTerminal, runningBox, type Terminal } from "./terminal-client";

/**
 * The browser terminal end to end: a WebSocket to the server, bridged through the Sprites SDK to a
 * TTY exec in a real sprites-local sandbox, behaves like a terminal (echo, window size, Ctrl-C).
 */
let server: TestServer;
let client: TestClient;
let boxId: string;
let terminal: Terminal;

beforeAll(async () => {
  server = await startTestServer({ sprites: true });
  ({ client } = await signedInClient(server));
  ({ boxId } = await runningBox(server, client));
  terminal = connectTerminal(server.url, client, boxId, { query: "?cols=100&rows=30" });
  expect(await terminal.opened).toBe(true);
}, 120_000);
afterAll(async () => {
  terminal?.close();
  await server?.close();
});

describe("the browser terminal", () => {
  it("runs what is typed in a login shell and prints its output", async () => {
    const since = terminal.printed.length;
    terminal.type("echo hi-from-$((40 + 2))\r");
    // The echo of the typed line shows `$((40 + 2))`; only the shell's output says 42.
    await terminal.waitForOutput(/hi-from-42/, since);
  });

  it("starts in the box's home at the size asked for, and follows a resize", async () => {
    let since = terminal.printed.length;
    terminal.type("pwd; stty size\r");
    const first = await terminal.waitForOutput(/^30 100\r?$/m, since);
    expect(first).toMatch(/^\/home\/sprite\r?$/m);

    terminal.resize(132, 43);
    // The resize is applied by the box when it gets there; ask until the shell sees it.
    await expect
      .poll(
        async () => {
          since = terminal.printed.length;
          terminal.type("stty size\r");
          await terminal.waitForOutput(/^\d+ \d+\r?$/m, since);
          return /^43 132\r?$/m.test(terminal.printed.slice(since));
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true);
  });

  it("interrupts a running command with Ctrl-C (the byte 0x03)", async () => {
    const since = terminal.printed.length;
    terminal.type("echo sleeping-$((3 + 4)); sleep 100; echo slept-$((1 + 1))\r");
    await terminal.waitForOutput(/sleeping-7/, since);
    terminal.type("\u0003");
    terminal.type("echo after-$((2 + 3))\r");
    const output = await terminal.waitForOutput(/after-5/, since);
    // Interrupted: the rest of the line never ran, and the shell took commands again long before 100 s.
    expect(output).not.toMatch(/slept-2/);
  });
});
