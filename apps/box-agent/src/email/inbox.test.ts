import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inboundEmail } from "../../test/emails";
import { EmailNotFoundError, Inbox, InvalidEmailIdError } from "./inbox";

let home: string;
let inbox: Inbox;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "box-agent-inbox-"));
  inbox = new Inbox(join(home, ".inbox"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("Inbox", () => {
  it("stores an email as ~/.inbox/{id}.json, readable only by the box user, with no temp file left", () => {
    const email = inboundEmail();
    expect(inbox.save(email)).toEqual({ duplicate: false });
    const path = join(home, ".inbox", `${email.id}.json`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".inbox")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(email);
    expect(readdirSync(join(home, ".inbox"))).toEqual([`${email.id}.json`]);
    expect(inbox.get(email.id)).toEqual({ email, read: false });
  });

  it("reports a repeated id as a duplicate, unread or read, and keeps the first copy", () => {
    const email = inboundEmail({ subject: "first" });
    inbox.save(email);
    expect(inbox.save({ ...email, subject: "second" })).toEqual({ duplicate: true });
    expect(inbox.get(email.id)?.email.subject).toBe("first");

    inbox.markRead(email.id);
    expect(inbox.save({ ...email, subject: "third" })).toEqual({ duplicate: true });
    expect(readdirSync(join(home, ".inbox")).filter((name) => name.endsWith(".json"))).toEqual([]);
    expect(inbox.get(email.id)).toMatchObject({ read: true, email: { subject: "first" } });
  });

  it("lists newest first by the email's date, with a limit, unread and archived apart", () => {
    const a = inboundEmail({ receivedAt: "2024-01-01T00:00:00.000Z" });
    const b = inboundEmail({ receivedAt: "2024-03-01T00:00:00.000Z" });
    const c = inboundEmail({ receivedAt: "2024-02-01T00:00:00.000Z" });
    for (const email of [a, b, c]) {
      inbox.save(email);
    }
    expect(inbox.list().map((summary) => summary.id)).toEqual([b.id, c.id, a.id]);
    expect(inbox.list({ limit: 2 }).map((summary) => summary.id)).toEqual([b.id, c.id]);
    expect(inbox.list()[0]).toEqual({
      id: b.id,
      from: b.from,
      subject: b.subject,
      receivedAt: b.receivedAt,
      threadId: b.threadId,
      read: false,
      untrustedSender: false,
    });

    inbox.markRead(c.id);
    expect(inbox.list().map((summary) => summary.id)).toEqual([b.id, a.id]);
    expect(inbox.list({ archived: true })).toMatchObject([{ id: c.id, read: true }]);
  });

  it("lists nothing for a missing inbox and skips files that are not emails", () => {
    expect(inbox.list()).toEqual([]);
    expect(inbox.list({ archived: true })).toEqual([]);
    const email = inboundEmail();
    inbox.save(email);
    writeFileSync(join(home, ".inbox", "notes.txt"), "hello");
    writeFileSync(join(home, ".inbox", "email_broken.json"), "{ not json");
    writeFileSync(join(home, ".inbox", "Bad-Name.json"), JSON.stringify(inboundEmail()));
    expect(inbox.list().map((summary) => summary.id)).toEqual([email.id]);
    expect(() => inbox.get("email_broken")).toThrow("is not valid JSON");
  });

  it("marks as read idempotently and refuses unknown ids", () => {
    const email = inboundEmail();
    inbox.save(email);
    expect(inbox.markRead(email.id)).toEqual({ alreadyRead: false });
    expect(inbox.markRead(email.id)).toEqual({ alreadyRead: true });
    expect(statSync(join(home, ".inbox", ".archive", `${email.id}.json`)).mode & 0o777).toBe(0o600);
    expect(() => inbox.markRead("email_unknown")).toThrow(EmailNotFoundError);
    expect(inbox.get("email_unknown")).toBeUndefined();
  });

  it("lets no id but the strict shape reach the filesystem", () => {
    writeFileSync(join(home, "secret.json"), JSON.stringify(inboundEmail({ id: "secret" })));
    for (const id of [
      "../secret",
      "..",
      "a/b",
      "%2e%2e",
      "Email_1",
      "email_1.json",
      "",
      "x".repeat(81),
      "a\u0000b",
    ]) {
      expect(() => inbox.get(id), id).toThrow(InvalidEmailIdError);
      expect(() => inbox.markRead(id), id).toThrow(InvalidEmailIdError);
      expect(() => inbox.save(inboundEmail({ id })), id).toThrow(InvalidEmailIdError);
    }
    expect(readdirSync(home).sort()).toEqual(["secret.json"]);
  });

  it("does not follow a symlink planted in the inbox", () => {
    mkdirSync(join(home, ".inbox"), { recursive: true });
    writeFileSync(join(home, "outside.json"), JSON.stringify(inboundEmail({ id: "email_outside" })));
    symlinkSync(join(home, "outside.json"), join(home, ".inbox", "email_outside.json"));
    expect(inbox.get("email_outside")).toBeUndefined();
    expect(inbox.list()).toEqual([]);
  });
});
