"use client";

import { useEffect, useId, useRef, useState } from "react";
import { ApiError, fieldIssue } from "@/lib/api-error";
import { filesApi } from "@/lib/box-api";
import { displayPath, explainFilesError, pathInDirectory, splitPath } from "@/lib/box-files";
import { Field } from "../field";
import { CancelButton, SubmitButton } from "../form-buttons";
import { FormError } from "../form-error";
import { useAuthRedirect } from "../use-auth-redirect";
import { useFormSubmit } from "../use-form-submit";

const FIELDS = ["path", "content"] as const;

function checkName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === "" || trimmed === "~" || trimmed === "~/") {
    return "Give the file a name, like notes/todo.md.";
  }
  if (trimmed.endsWith("/")) {
    return `'${trimmed}' ends with '/': add the file's name after it.`;
  }
  return null;
}

/** The write replaces an existing file, so look first; "New file" must never overwrite one. */
async function fileExists(boxId: string, path: string): Promise<boolean> {
  const { parent, name } = splitPath(path);
  try {
    const listing = await filesApi.list(boxId, parent);
    return listing.entries.some((entry) => entry.name === name);
  } catch (error) {
    // The write creates a missing folder, and a path the server refuses gets its own message from the write.
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
      return false;
    }
    throw error;
  }
}

interface NewFileFormProps {
  boxId: string;
  /** The directory being shown ("" is the home); a relative name goes below it. */
  dir: string;
  formId: string;
  onCreated: (path: string) => void;
  onCancel: () => void;
}

export function NewFileForm({ boxId, dir, formId, onCreated, onCancel }: NewFileFormProps) {
  const handleAuth = useAuthRedirect();
  const [name, setName] = useState("");
  const [content, setContent] = useState("");
  const [nameProblem, setNameProblem] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const baseId = useId();
  const id = (field: string) => `${baseId}-${field}`;

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  const { submitting, error, submit } = useFormSubmit(async () => {
    const problem = checkName(name);
    setNameProblem(problem);
    if (problem) {
      return;
    }
    const path = pathInDirectory(dir, name);
    try {
      if (await fileExists(boxId, path)) {
        setNameProblem(`${displayPath(path)} already exists: open it and use Edit to change it.`);
        return;
      }
      const written = await filesApi.write(boxId, { path, content, encoding: "utf8" });
      onCreated(written.path);
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      throw explainFilesError(caught);
    }
  });

  const nameIssue = nameProblem ?? fieldIssue(error, "path");
  const contentIssue = fieldIssue(error, "content");

  return (
    <form
      id={formId}
      className="new-file-form"
      onSubmit={submit}
      noValidate
      aria-label="New file"
      data-testid="file-create-form"
    >
      <Field
        label="Name"
        htmlFor={id("name")}
        error={nameIssue}
        errorId={id("name-error")}
        errorTestId="file-name-error"
      >
        <input
          ref={nameRef}
          id={id("name")}
          type="text"
          className="mono"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="notes/todo.md"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={nameIssue ? true : undefined}
          aria-describedby={`${id("name-hint")}${nameIssue ? ` ${id("name-error")}` : ""}`}
          data-testid="file-name"
        />
        <p id={id("name-hint")} className="muted small">
          Inside {displayPath(dir)}. Slashes make folders; missing ones are created.
        </p>
      </Field>
      <Field label="Content" htmlFor={id("content")} error={contentIssue} errorId={id("content-error")}>
        <textarea
          id={id("content")}
          className="mono"
          rows={8}
          value={content}
          onChange={(event) => setContent(event.target.value)}
          spellCheck={false}
          aria-invalid={contentIssue ? true : undefined}
          aria-describedby={contentIssue ? id("content-error") : undefined}
          data-testid="file-new-content"
        />
      </Field>
      <FormError error={error} fields={FIELDS} testId="file-create-error" />
      <div className="form-actions">
        <CancelButton onCancel={onCancel} disabled={submitting} />
        <SubmitButton busy={submitting} busyLabel="Creating…" testId="file-create">
          Create file
        </SubmitButton>
      </div>
    </form>
  );
}
