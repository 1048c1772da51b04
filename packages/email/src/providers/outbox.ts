import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import MailComposer from "nodemailer/lib/mail-composer";
import { EmailSendError } from "../errors";
import type { EmailProvider, OutboundEmail } from "../types";
import { toNodemailerMessage } from "./shared";

export interface OutboxProviderOptions {
  /** Directory holding `<id>.eml` and `<id>.json` per email; created when missing. */
  dir: string;
}

/** What `<id>.json` holds: enough for the dashboard to list and show an email without parsing MIME. */
export interface OutboxEntry {
  id: string;
  messageId: string;
  inReplyTo: string | undefined;
  references: string | undefined;
  from: string;
  to: string[];
  cc: string[];
  replyTo: string | undefined;
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; contentType: string | undefined; size: number }[];
  /** ISO time the email was written. */
  createdAt: string;
  /** File name of the full message next to this one. */
  emlFile: string;
}

/** Our ids are TypeIDs; anything else is reduced to a name that cannot leave the directory. */
function fileStem(id: string): string {
  const stem = id.replace(/[^A-Za-z0-9_-]/g, "_");
  if (stem === "" || stem.length > 200) {
    throw new EmailSendError(`email id ${JSON.stringify(id)} cannot name an outbox file`, {
      provider: "outbox",
      retryable: false,
    });
  }
  return stem;
}

/** Readers never see half a file: write beside, then rename (atomic within one directory). */
async function writeAtomically(path: string, content: string | Buffer): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function createOutboxProvider({ dir }: OutboxProviderOptions): EmailProvider {
  return {
    name: "outbox",
    async send(message: OutboundEmail) {
      const stem = fileStem(message.id);
      const jsonPath = join(dir, `${stem}.json`);
      const providerMessageId = `outbox:${stem}`;
      try {
        // The .json is written last, so its presence means this id was already delivered.
        if (await exists(jsonPath)) {
          return { providerMessageId };
        }
        await mkdir(dir, { recursive: true });
        const eml = await new MailComposer(toNodemailerMessage(message)).compile().build();
        const entry: OutboxEntry = {
          id: message.id,
          messageId: message.headers["Message-ID"],
          inReplyTo: message.headers["In-Reply-To"],
          references: message.headers.References,
          from: message.from,
          to: message.to,
          cc: message.cc ?? [],
          replyTo: message.replyTo,
          subject: message.subject,
          text: message.text,
          html: message.html,
          attachments: (message.attachments ?? []).map((attachment) => ({
            filename: attachment.filename,
            contentType: attachment.contentType,
            size: attachment.content.length,
          })),
          createdAt: new Date().toISOString(),
          emlFile: `${stem}.eml`,
        };
        await writeAtomically(join(dir, entry.emlFile), eml);
        await writeAtomically(jsonPath, `${JSON.stringify(entry, null, 2)}\n`);
      } catch (error) {
        if (error instanceof EmailSendError) {
          throw error;
        }
        const reason = error instanceof Error ? error.message : String(error);
        throw new EmailSendError(`could not write email ${message.id} to the outbox ${dir}: ${reason}`, {
          provider: "outbox",
          // A full disk or a permission problem needs an operator, but may be fixed before the last retry.
          retryable: true,
          code:
            typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined,
          cause: error,
        });
      }
      return { providerMessageId };
    },
    async forget(emailIds) {
      for (const id of emailIds) {
        const stem = fileStem(id);
        await rm(join(dir, `${stem}.json`), { force: true });
        await rm(join(dir, `${stem}.eml`), { force: true });
      }
    },
  };
}

/** Outbox entries, newest first; a missing directory is an empty outbox. */
export async function listOutbox(dir: string): Promise<OutboxEntry[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") {
      return [] as string[];
    }
    throw error;
  });
  const entries = await Promise.all(
    names
      .filter((name) => name.endsWith(".json"))
      .map(async (name) => JSON.parse(await readFile(join(dir, name), "utf8")) as OutboxEntry),
  );
  return entries.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/** One entry and its raw message, or undefined when the outbox has no such email. */
export async function readOutboxEmail(
  dir: string,
  id: string,
): Promise<{ entry: OutboxEntry; eml: Buffer } | undefined> {
  const stem = id.replace(/[^A-Za-z0-9_-]/g, "_");
  try {
    const entry = JSON.parse(await readFile(join(dir, `${stem}.json`), "utf8")) as OutboxEntry;
    return { entry, eml: await readFile(join(dir, `${stem}.eml`)) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw error;
  }
}
