import { randomBytes } from "node:crypto";
import addressparser from "nodemailer/lib/addressparser";

/**
 * Header and address helpers for threads. A thread is decided by Message-ID / In-Reply-To /
 * References (RFC 5322 §3.6.4); the subject only helps mail clients group what they show.
 */

/** Keeps References bounded on long threads: the root plus the most recent ids, as RFC 5322 allows. */
const MAX_REFERENCES = 20;

/** `abc@host` or ` <abc@host> ` → `<abc@host>`; empty input → undefined. */
export function normalizeMessageId(id: string | undefined | null): string | undefined {
  const bare = (id ?? "").trim().replace(/^<+/, "").replace(/>+$/, "").trim();
  return bare === "" ? undefined : `<${bare}>`;
}

/** Message ids in a References / In-Reply-To value (or list of ids), in order, without duplicates. */
export function parseReferences(value: string | string[] | undefined | null): string[] {
  const items = Array.isArray(value) ? value : [value ?? ""];
  const ids: string[] = [];
  for (const item of items) {
    const bracketed = item.match(/<[^<>\s]+>/g);
    const found = bracketed ?? item.split(/[\s,]+/).filter(Boolean);
    for (const raw of found) {
      const id = normalizeMessageId(raw);
      if (id && !ids.includes(id)) {
        ids.push(id);
      }
    }
  }
  return ids;
}

export interface ReplyHeaders {
  "In-Reply-To": string;
  References: string;
}

/** In-Reply-To = the parent's Message-ID; References = the parent's References + the parent's Message-ID. */
export function buildReplyHeaders({
  parentMessageId,
  parentReferences,
}: {
  parentMessageId: string;
  parentReferences?: string | string[] | null;
}): ReplyHeaders {
  const parent = normalizeMessageId(parentMessageId);
  if (!parent) {
    throw new Error("buildReplyHeaders: the parent's Message-ID is empty");
  }
  const chain = parseReferences(parentReferences).filter((id) => id !== parent);
  chain.push(parent);
  const bounded =
    chain.length > MAX_REFERENCES ? [chain[0] ?? parent, ...chain.slice(-(MAX_REFERENCES - 1))] : chain;
  return { "In-Reply-To": parent, References: bounded.join(" ") };
}

/** Reply prefixes mail clients add: "Re:", "RE :", "Re[2]:", "Re(3):". */
const REPLY_PREFIX = /^\s*re\s*(?:\[\d+\]|\(\d+\))?\s*:\s*/i;

/** Exactly one "Re: " in front, however many the subject already carried. */
export function replySubject(subject: string): string {
  let rest = subject;
  while (REPLY_PREFIX.test(rest)) {
    rest = rest.replace(REPLY_PREFIX, "");
  }
  const topic = rest.trim();
  return topic === "" ? "Re:" : `Re: ${topic}`;
}

/** A fresh Message-ID on our own domain: `<time.random@domain>`. */
export function generateMessageId(domain: string): string {
  const host = domain.trim().toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(host)) {
    throw new Error(`generateMessageId: ${JSON.stringify(domain)} is not a domain name`);
  }
  return `<${Date.now().toString(36)}.${randomBytes(12).toString("hex")}@${host}>`;
}

export interface EmailAddress {
  /** Display name; empty when there is none. */
  name: string;
  /** `local@domain` as written. */
  address: string;
}

function isMailbox(address: string): boolean {
  const at = address.lastIndexOf("@");
  return at > 0 && at < address.length - 1 && !/\s/.test(address);
}

/** Every mailbox in an address header value (`"Doe, J" <j@x>, k@y`); groups are flattened, junk dropped. */
export function parseAddressList(input: string): EmailAddress[] {
  return addressparser(input, { flatten: true })
    .filter((entry) => isMailbox(entry.address))
    .map((entry) => ({ name: entry.name, address: entry.address }));
}

/** The first mailbox of an address header value, or undefined when there is none. */
export function parseAddress(input: string): EmailAddress | undefined {
  return parseAddressList(input)[0];
}

export interface NormalizedRecipient {
  /** Local part without the +tag, lower-cased: the box lookup key together with the domain. */
  local: string;
  /** What followed the first "+", lower-cased; undefined when there was no "+". */
  tag: string | undefined;
  domain: string;
  /** `local@domain`, without the tag. */
  address: string;
}

/** `"Name" <Box+Tag@Agents.Example>` → `{ local: "box", tag: "tag", domain: "agents.example" }`. */
export function normalizeRecipient(input: string): NormalizedRecipient | undefined {
  const parsed = parseAddress(input);
  if (!parsed) {
    return undefined;
  }
  const at = parsed.address.lastIndexOf("@");
  const fullLocal = parsed.address.slice(0, at).toLowerCase();
  const domain = parsed.address
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, "");
  const plus = fullLocal.indexOf("+");
  const local = plus >= 0 ? fullLocal.slice(0, plus) : fullLocal;
  const tag = plus >= 0 ? fullLocal.slice(plus + 1) : undefined;
  if (local === "" || domain === "") {
    return undefined;
  }
  return { local, tag, domain, address: `${local}@${domain}` };
}
