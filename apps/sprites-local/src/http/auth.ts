import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Checks `Authorization: Bearer <token>` in constant time (hashing first evens out the lengths). */
export function bearerMatches(header: string | undefined | null, token: string): boolean {
  if (!header) {
    return false;
  }
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) {
    return false;
  }
  return timingSafeEqual(digest(match[1]), digest(token));
}
