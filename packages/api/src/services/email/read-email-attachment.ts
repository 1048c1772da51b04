import { boxEmail } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { notFound, ServiceError } from "../../errors";

/**
 * Media types a browser displays, plays or hands to another program, but never runs as part of our
 * origin. The sender chose the type, so anything else (HTML, SVG, XML, scripts, unknown types) is
 * answered as opaque bytes.
 */
const SAFE_MEDIA_TYPE =
  /^(?:image\/(?:png|jpeg|gif|webp|avif|bmp|tiff|heic|heif)|audio\/[\w.+-]+|video\/[\w.+-]+|text\/(?:plain|csv|calendar)|application\/(?:pdf|zip|gzip|x-tar|x-7z-compressed|json|rtf|msword|vnd\.ms-excel|vnd\.ms-powerpoint|vnd\.openxmlformats-officedocument\.[\w.+-]+|vnd\.oasis\.opendocument\.[\w.+-]+))$/;

const OPAQUE_MEDIA_TYPE = "application/octet-stream";

/** The stored type without its parameters when it is safe to answer with, else opaque bytes. */
export function downloadContentType(stored: string): string {
  const mediaType = stored.split(";")[0]?.trim().toLowerCase() ?? "";
  return SAFE_MEDIA_TYPE.test(mediaType) ? mediaType : OPAQUE_MEDIA_TYPE;
}

const MAX_FILE_NAME_LENGTH = 200;
/**
 * Control characters would split the header, format characters (a right-to-left override) would
 * disguise the extension, a lone surrogate cannot be encoded, and separators would name a path.
 */
const UNSAFE_IN_FILE_NAME = /[\p{Cc}\p{Cf}\p{Cs}/\\]/gu;

/** The sender's file name, made safe to offer as a download name. */
export function attachmentFileName(name: string): string {
  const cleaned = name.replace(UNSAFE_IN_FILE_NAME, "_").trim().replace(/^\.+/, "");
  const shortened = Array.from(cleaned).slice(0, MAX_FILE_NAME_LENGTH).join("");
  return shortened.length > 0 ? shortened : "attachment";
}

/** RFC 6266: an ASCII `filename` for old clients, the exact name as RFC 8187 `filename*`. */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * One attachment of one of the box's emails, as a download: the bytes from storage, a sanitised name,
 * and headers that keep a browser from rendering it in the dashboard's origin.
 */
export async function readEmailAttachment({
  deps,
  boxId,
  emailId,
  index,
}: {
  deps: ApiDeps;
  boxId: string;
  emailId: string;
  index: number;
}) {
  const [row] = await deps.db
    .select({ attachments: boxEmail.attachments })
    .from(boxEmail)
    .where(and(eq(boxEmail.id, emailId), eq(boxEmail.boxId, boxId)))
    .limit(1);
  if (!row) {
    throw notFound("email", emailId);
  }
  const attachment = row.attachments[index];
  if (!attachment) {
    throw new ServiceError(
      "NOT_FOUND",
      `email '${emailId}' has no attachment ${index}; it has ${row.attachments.length} (numbered from 0)`,
    );
  }
  const bytes = attachment.storageKey ? await deps.storage.get(attachment.storageKey) : undefined;
  if (!bytes) {
    throw new ServiceError(
      "NOT_FOUND",
      `attachment ${index} of email '${emailId}' ('${attachment.filename}') is no longer stored`,
    );
  }
  const fileName = attachmentFileName(attachment.filename);
  return {
    headers: {
      "content-disposition": attachmentDisposition(fileName),
      "x-content-type-options": "nosniff" as const,
      "cache-control": "private, no-store",
    },
    body: new File([new Uint8Array(bytes)], fileName, { type: downloadContentType(attachment.contentType) }),
  };
}
