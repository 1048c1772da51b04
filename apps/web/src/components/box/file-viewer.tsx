"use client";

import { useCallback, useEffect, useId, useState } from "react";
import { filesApi } from "@/lib/box-api";
import { base64ToBlob, displayPath, explainFilesError, splitPath } from "@/lib/box-files";
import { formatBytes } from "@/lib/format";
import { Field } from "../field";
import { CancelButton, SubmitButton } from "../form-buttons";
import { FormError } from "../form-error";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { useAuthRedirect } from "../use-auth-redirect";
import { useFormSubmit } from "../use-form-submit";
import { useResource } from "../use-resource";

/** The editor has no issue line of its own; every save error shows under the form. */
const NO_FIELDS: readonly string[] = [];

/** A textarea hands back "\n" line ends; a file written with "\r\n" throughout keeps them. */
function withOriginalLineEnds(original: string, edited: string): string {
  const crlfOnly = original.includes("\r\n") && !/(^|[^\r])\n/.test(original);
  return crlfOnly ? edited.replace(/\r?\n/g, "\r\n") : edited;
}

function BinaryDownload({ content, name }: { content: string; name: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const objectUrl = URL.createObjectURL(base64ToBlob(content));
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [content]);

  return (
    <div className="panel-state panel-state-empty" data-testid="file-binary">
      <p className="panel-state-title">Not a text file, so it is not shown here.</p>
      {url ? (
        <a className="button" href={url} download={name} data-testid="file-download">
          Download {name}
        </a>
      ) : null}
    </div>
  );
}

interface FileViewerProps {
  boxId: string;
  path: string;
  active: boolean;
  onClose: () => void;
}

/** One opened file: text shown and editable, anything else offered as a download. */
export function FileViewer({ boxId, path, active, onClose }: FileViewerProps) {
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => filesApi.read(boxId, path), [boxId, path]);
  const file = useResource(load, active);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const [saved, setSaved] = useState(false);
  const baseId = useId();
  const { name } = splitPath(path);
  const data = file.data;
  const shownPath = displayPath(data?.path ?? path);

  const { submitting, error, submit } = useFormSubmit(async () => {
    if (!data) {
      return;
    }
    try {
      await filesApi.write(boxId, {
        path: data.path,
        content: withOriginalLineEnds(data.content, draft),
        encoding: "utf8",
      });
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      throw explainFilesError(caught);
    }
    setEditing(false);
    setSaved(true);
    await file.reload();
  });

  function startEditing() {
    if (data) {
      setDraft(data.content);
      setSaved(false);
      setEditing(true);
    }
  }

  return (
    <section
      className="file-viewer"
      aria-labelledby={`${baseId}-title`}
      aria-busy={file.loading || undefined}
      data-testid="file-viewer"
      data-path={path}
    >
      <div className="file-viewer-head">
        <div className="file-viewer-title">
          <h3 id={`${baseId}-title`} className="card-subtitle mono" data-testid="file-path">
            {shownPath}
          </h3>
          {data ? (
            <span className="muted small" data-testid="file-size">
              {formatBytes(data.size)}
              {data.encoding === "base64" ? " · binary" : ""}
            </span>
          ) : null}
        </div>
        {editing ? null : (
          <div className="button-row">
            {data?.encoding === "utf8" ? (
              <button
                type="button"
                className="button button-small"
                onClick={startEditing}
                aria-label={`Edit ${name}`}
                data-testid="file-edit"
              >
                Edit
              </button>
            ) : null}
            <button
              type="button"
              className="button button-small"
              onClick={() => void file.reload()}
              aria-label={`Reload ${name}`}
              data-testid="file-reload"
            >
              Reload
            </button>
            <button
              type="button"
              className="button button-small button-quiet"
              onClick={onClose}
              aria-label={`Close ${name}`}
              data-testid="file-close"
            >
              Close
            </button>
          </div>
        )}
      </div>
      {saved ? (
        <p className="muted small" role="status" data-testid="file-saved">
          Saved.
        </p>
      ) : null}

      {file.error ? (
        <ErrorState
          title={`Could not open ${shownPath}`}
          error={explainFilesError(file.error)}
          onRetry={file.reload}
          testId="file-error"
        />
      ) : null}
      {file.loading ? <LoadingState label={`Opening ${shownPath}…`} testId="file-loading" /> : null}

      {data && editing ? (
        <form onSubmit={submit} noValidate aria-label={`Edit ${name}`} data-testid="file-edit-form">
          <Field label={`Content of ${name}`} htmlFor={`${baseId}-content`}>
            <textarea
              id={`${baseId}-content`}
              className="mono file-editor"
              rows={Math.min(28, Math.max(8, draft.split("\n").length + 1))}
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              spellCheck={false}
              data-testid="file-editor"
            />
          </Field>
          <FormError error={error} fields={NO_FIELDS} testId="file-save-error" />
          <div className="form-actions">
            <CancelButton onCancel={() => setEditing(false)} disabled={submitting} />
            <SubmitButton busy={submitting} disabled={draft === data.content} testId="file-save">
              Save
            </SubmitButton>
          </div>
        </form>
      ) : null}
      {data && !editing ? (
        data.encoding === "base64" ? (
          <BinaryDownload content={data.content} name={name} />
        ) : data.size === 0 ? (
          <EmptyState title="This file is empty." testId="file-empty" />
        ) : (
          <pre className="file-content" data-testid="file-content">
            {data.content}
          </pre>
        )
      ) : null}
    </section>
  );
}
