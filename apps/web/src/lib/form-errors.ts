import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { asApiError } from "./api-error";

/**
 * Puts the server's per-field issues (oRPC validation errors) under the fields they belong to, so
 * "minute must be 0–59" appears beside the schedule input. Answers true when every issue found a field
 * of `fields`, so the form need not repeat them in its own error line.
 */
export function showServerIssues<Values extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<Values>,
  fields: readonly Path<Values>[],
): boolean {
  const issues = asApiError(error)?.issues ?? [];
  let allPlaced = issues.length > 0;
  for (const issue of issues) {
    const field = fields.find((name) => issue.path === name || issue.path.startsWith(`${name}.`));
    if (field) {
      setError(field, { type: "server", message: issue.message });
    } else {
      allPlaced = false;
    }
  }
  return allPlaced;
}
