import type { JsonOf, UserOutputs } from "@vps-claude/contract";

/** A box as the API returns it (`/rpc/box`), typed from the contract. Timestamps are ISO strings. */
export type Box = JsonOf<UserOutputs["box"]["get"]>;

export type BoxStatus = Box["status"];

export const BOX_STATUSES = [
  "pending",
  "deploying",
  "running",
  "error",
  "deleting",
] as const satisfies readonly BoxStatus[];

export const BOX_NAME_MAX_LENGTH = 64;

const TRANSITIONAL_STATUSES: ReadonlySet<BoxStatus> = new Set(["pending", "deploying", "deleting"]);

/** A box in one of these states will change on its own, so the views keep polling. */
export function isTransitional(status: BoxStatus): boolean {
  return TRANSITIONAL_STATUSES.has(status);
}

export const STATUS_LABELS: Record<BoxStatus, string> = {
  pending: "Pending",
  deploying: "Deploying",
  running: "Running",
  error: "Error",
  deleting: "Deleting",
};

export function validateBoxName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) {
    return "Give the box a name.";
  }
  if (trimmed.length > BOX_NAME_MAX_LENGTH) {
    return `The name is ${trimmed.length} characters long; the limit is ${BOX_NAME_MAX_LENGTH}.`;
  }
  return null;
}
