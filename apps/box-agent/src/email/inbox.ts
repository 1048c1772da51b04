import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  EMAIL_ID_PATTERN,
  type InboundEmail,
  inboundEmailSchema,
  isEmailId,
} from "@vps-claude/contract/box-agent";
import { z } from "zod";

export class InvalidEmailIdError extends Error {
  override name = "InvalidEmailIdError";
  constructor(id: string) {
    super(
      `'${id.slice(0, 100)}' is not an email id: ids are 1–80 characters of a-z, 0-9 and '_' (e.g. email_01j…)`,
    );
  }
}

export class EmailNotFoundError extends Error {
  override name = "EmailNotFoundError";
  constructor(id: string) {
    super(`no email ${id} in the inbox or its archive`);
  }
}

export interface StoredEmail {
  email: InboundEmail;
  /** Read emails live in `~/.inbox/.archive`; unread ones in `~/.inbox`. */
  read: boolean;
}

export interface EmailSummary {
  id: string;
  from: string;
  subject: string;
  receivedAt: string;
  threadId: string;
  read: boolean;
  untrustedSender: boolean;
}

const EMAIL_FILE = new RegExp(`^(${EMAIL_ID_PATTERN.source.slice(1, -1)})\\.json$`);

/** Filesystems without hard links answer these; there we fall back to a plain rename. */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function assertEmailId(id: string): void {
  if (!isEmailId(id)) {
    throw new InvalidEmailIdError(id);
  }
}

/**
 * The box's mailbox on disk: `~/.inbox/{id}.json` for unread emails, `~/.inbox/.archive/{id}.json`
 * once read. The HTTP API and the MCP server (a separate process with the same HOME) share it, so
 * every write is atomic and every state change is a single rename.
 */
export class Inbox {
  readonly dir: string;
  readonly archiveDir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.archiveDir = join(dir, ".archive");
  }

  private pathOf(id: string, read: boolean): string {
    return join(read ? this.archiveDir : this.dir, `${id}.json`);
  }

  /**
   * Stores an email once. A delivery retried by the platform (same id, whether still unread or
   * already read) is reported as a duplicate and changes nothing.
   */
  save(email: InboundEmail): { duplicate: boolean } {
    assertEmailId(email.id);
    const target = this.pathOf(email.id, false);
    const archived = this.pathOf(email.id, true);
    if (existsSync(target) || existsSync(archived)) {
      return { duplicate: true };
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.${email.id}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      const fd = openSync(temp, "wx", 0o600);
      try {
        writeSync(fd, `${JSON.stringify(email, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      // Listing sorts by mtime so it need not parse every file; the email's own date is the one that counts.
      const receivedAt = new Date(email.receivedAt);
      utimesSync(temp, receivedAt, receivedAt);
      if (!this.publish(temp, target)) {
        return { duplicate: true };
      }
    } finally {
      rmSync(temp, { force: true });
    }
    if (existsSync(archived)) {
      // Read and archived between our check and our link: it had been delivered before after all.
      unlinkSync(target);
      return { duplicate: true };
    }
    return { duplicate: false };
  }

  /** Puts the finished temp file in place without ever replacing an existing one; false if one exists. */
  private publish(temp: string, target: string): boolean {
    try {
      linkSync(temp, target);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === "EEXIST") {
        return false;
      }
      if (code !== undefined && NO_HARD_LINKS.has(code)) {
        if (existsSync(target)) {
          return false;
        }
        renameSync(temp, target);
        return true;
      }
      throw error;
    }
  }

  /** The email with this id, unread or read; undefined when there is none. */
  get(id: string): StoredEmail | undefined {
    assertEmailId(id);
    // Unread first: an email being marked as read meanwhile is then found in the archive.
    for (const read of [false, true]) {
      const text = this.readFile(this.pathOf(id, read));
      if (text !== undefined) {
        return { email: this.parse(id, text), read };
      }
    }
    return undefined;
  }

  private readFile(path: string): string | undefined {
    let fd: number;
    try {
      // A symlink planted in the inbox must not make us read a file elsewhere.
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ELOOP") {
        return undefined;
      }
      throw error;
    }
    try {
      return readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  }

  private parse(id: string, text: string): InboundEmail {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`the stored file of email ${id} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = inboundEmailSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `the stored file of email ${id} is not a valid email: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  /** Unread emails (or read ones, with `archived`), newest first. */
  list(options: { archived?: boolean; limit?: number } = {}): EmailSummary[] {
    const read = options.archived === true;
    const dir = read ? this.archiveDir : this.dir;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name);
    } catch (error) {
      if (errorCode(error) === "ENOENT") {
        return [];
      }
      throw error;
    }

    const candidates: Array<{ id: string; mtimeMs: number }> = [];
    for (const name of names) {
      const id = EMAIL_FILE.exec(name)?.[1];
      if (id === undefined) {
        continue;
      }
      try {
        candidates.push({ id, mtimeMs: statSync(join(dir, name)).mtimeMs });
      } catch {
        // Moved to the archive meanwhile.
      }
    }
    candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || b.id.localeCompare(a.id));

    const summaries: EmailSummary[] = [];
    for (const { id } of candidates.slice(0, options.limit ?? 50)) {
      let email: InboundEmail;
      try {
        const text = this.readFile(this.pathOf(id, read));
        if (text === undefined) {
          continue;
        }
        email = this.parse(id, text);
      } catch {
        // A damaged file is left out of listings; reading it by id reports what is wrong.
        continue;
      }
      summaries.push({
        id: email.id,
        from: email.from,
        subject: email.subject,
        receivedAt: email.receivedAt,
        threadId: email.threadId,
        read,
        untrustedSender: email.untrustedSender,
      });
    }
    return summaries.sort(
      (a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt) || b.id.localeCompare(a.id),
    );
  }

  /** Moves an email to the archive. Marking a read email again is fine; an unknown id throws. */
  markRead(id: string): { alreadyRead: boolean } {
    assertEmailId(id);
    mkdirSync(this.archiveDir, { recursive: true, mode: 0o700 });
    try {
      renameSync(this.pathOf(id, false), this.pathOf(id, true));
      return { alreadyRead: false };
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        throw error;
      }
    }
    if (existsSync(this.pathOf(id, true))) {
      return { alreadyRead: true };
    }
    throw new EmailNotFoundError(id);
  }
}
