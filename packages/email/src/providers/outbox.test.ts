import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMime } from "../parse-mime";
import type { OutboundEmail } from "../types";
import { createOutboxProvider, listOutbox, readOutboxEmail } from "./outbox";

let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "outbox-test-")), "outbox");
});

afterEach(async () => {
  await rm(join(dir, ".."), { recursive: true, force: true });
});

function email(id: string, subject = "Hello"): OutboundEmail {
  return {
    id,
    from: "My Box <mybox@agents.localhost>",
    to: ["alice@example.org"],
    subject,
    html: "<p>Hi</p>",
    text: "Hi\n",
    headers: {
      "Message-ID": `<${id}@agents.localhost>`,
      "In-Reply-To": "<in@example.org>",
      References: "<in@example.org>",
    },
    attachments: [{ filename: "n.txt", content: Buffer.from("note"), contentType: "text/plain" }],
  };
}

describe("outbox provider", () => {
  it("writes a parseable .eml and a .json entry the dashboard can list", async () => {
    const provider = createOutboxProvider({ dir });
    const { providerMessageId } = await provider.send(email("email_01a"));
    expect(providerMessageId).toBe("outbox:email_01a");
    expect((await readdir(dir)).sort()).toEqual(["email_01a.eml", "email_01a.json"]);

    const parsed = await parseMime(await readFile(join(dir, "email_01a.eml")));
    expect(parsed).toMatchObject({
      messageId: "<email_01a@agents.localhost>",
      inReplyTo: "<in@example.org>",
      subject: "Hello",
      html: "<p>Hi</p>",
    });
    expect(parsed.attachments[0]?.content.toString()).toBe("note");

    const [entry] = await listOutbox(dir);
    expect(entry).toMatchObject({
      id: "email_01a",
      messageId: "<email_01a@agents.localhost>",
      to: ["alice@example.org"],
      cc: [],
      subject: "Hello",
      text: "Hi\n",
      attachments: [{ filename: "n.txt", contentType: "text/plain", size: 4 }],
      emlFile: "email_01a.eml",
    });
    const read = await readOutboxEmail(dir, "email_01a");
    expect(read?.eml.toString()).toContain("Message-ID: <email_01a@agents.localhost>");
    expect(await readOutboxEmail(dir, "email_missing")).toBeUndefined();
  });

  it("is idempotent on our email id", async () => {
    const provider = createOutboxProvider({ dir });
    const first = await provider.send(email("email_01b"));
    const again = await provider.send(email("email_01b", "changed on retry"));
    expect(again).toEqual(first);
    expect((await listOutbox(dir)).map((entry) => entry.subject)).toEqual(["Hello"]);
  });

  it("keeps ids from escaping the directory", async () => {
    const provider = createOutboxProvider({ dir });
    await provider.send(email("../../etc/evil"));
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["______etc_evil.json"]));
  });

  it("lists nothing for a missing directory, newest first otherwise", async () => {
    expect(await listOutbox(join(dir, "none"))).toEqual([]);
    const provider = createOutboxProvider({ dir });
    await provider.send(email("email_01c"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await provider.send(email("email_01d"));
    expect((await listOutbox(dir)).map((entry) => entry.id)).toEqual(["email_01d", "email_01c"]);
  });
});
