import { boxEmail, type Database } from "@vps-claude/db";
import { and, eq, inArray } from "drizzle-orm";

/**
 * A thread is keyed by the Message-ID of its first message. A message joins the thread of any
 * message it references that this box has seen (in or out); failing that, the oldest reference
 * it carries names the thread, so replies that quote the same root still meet.
 */
export async function resolveThreadId({
  db,
  boxId,
  messageId,
  inReplyTo,
  references,
}: {
  db: Database;
  boxId: string;
  messageId: string;
  inReplyTo?: string | null;
  references: string[];
}): Promise<string> {
  const related = [...new Set([...(inReplyTo ? [inReplyTo] : []), ...references])];
  if (related.length > 0) {
    const [known] = await db
      .select({ threadId: boxEmail.threadId })
      .from(boxEmail)
      .where(and(eq(boxEmail.boxId, boxId), inArray(boxEmail.messageId, related)))
      .limit(1);
    if (known) {
      return known.threadId;
    }
  }
  return references[0] ?? inReplyTo ?? messageId;
}
