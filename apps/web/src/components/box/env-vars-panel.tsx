"use client";

import { useCallback, useId, useState } from "react";
import { fieldIssue } from "@/lib/api-error";
import { type EnvVar, type EnvVarType, envApi } from "@/lib/box-api";
import { upsertByKey, withoutKey } from "@/lib/keyed-list";
import { ConfirmDialog } from "../confirm-dialog";
import { DeleteButton } from "../delete-button";
import { Field } from "../field";
import { CancelButton, SubmitButton } from "../form-buttons";
import { FormError } from "../form-error";
import { LockIcon } from "../icons";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { useAuthRedirect } from "../use-auth-redirect";
import { useConfirmedDelete } from "../use-confirmed-delete";
import { useFormSubmit } from "../use-form-submit";
import { useResource } from "../use-resource";

const FIELDS = ["key", "value", "type"] as const;

interface EnvVarFormProps {
  /** Editing an existing variable: its key is fixed and a secret's value is never prefilled. */
  existing?: EnvVar;
  onSubmit: (input: { key: string; value: string; type: EnvVarType }) => Promise<void>;
  onCancel?: () => void;
}

function EnvVarForm({ existing, onSubmit, onCancel }: EnvVarFormProps) {
  const [key, setKey] = useState(existing?.key ?? "");
  const [value, setValue] = useState(existing?.type === "plain" ? (existing.value ?? "") : "");
  const [type, setType] = useState<EnvVarType>(existing?.type ?? "plain");
  const baseId = useId();
  const id = (field: string) => `${baseId}-${field}`;

  const { submitting, error, submit } = useFormSubmit(async () => {
    await onSubmit({ key: key.trim(), value, type });
    if (!existing) {
      setKey("");
      setValue("");
      setType("plain");
    }
  });

  const keyIssue = fieldIssue(error, "key");
  const valueIssue = fieldIssue(error, "value");
  const secret = type === "secret";
  const replacingSecret = existing?.type === "secret";

  return (
    <form
      className="env-form"
      onSubmit={submit}
      noValidate
      aria-label={existing ? `Change ${existing.key}` : "Add an env var"}
      data-testid={existing ? "env-edit-form" : "env-create-form"}
    >
      <div className="env-form-grid">
        <Field
          label="Key"
          htmlFor={id("key")}
          error={keyIssue}
          errorId={id("key-error")}
          errorTestId="env-key-error"
        >
          <input
            id={id("key")}
            type="text"
            className="mono"
            value={key}
            onChange={(event) => setKey(event.target.value)}
            readOnly={Boolean(existing)}
            placeholder="GITHUB_TOKEN"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={keyIssue ? true : undefined}
            aria-describedby={keyIssue ? id("key-error") : undefined}
            data-testid="env-key"
          />
        </Field>
        <Field
          label={replacingSecret ? "New value" : "Value"}
          htmlFor={id("value")}
          error={valueIssue}
          errorId={id("value-error")}
          errorTestId="env-value-error"
        >
          <input
            id={id("value")}
            // A secret is typed blind, and the browser must not offer to save it as a password.
            type={secret ? "password" : "text"}
            autoComplete={secret ? "new-password" : "off"}
            className="mono"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            placeholder={replacingSecret ? "the current value stays hidden" : ""}
            spellCheck={false}
            aria-invalid={valueIssue ? true : undefined}
            aria-describedby={valueIssue ? id("value-error") : undefined}
            data-testid="env-value"
          />
        </Field>
        <Field label="Type" htmlFor={id("type")}>
          <select
            id={id("type")}
            value={type}
            onChange={(event) => setType(event.target.value as EnvVarType)}
            data-testid="env-type"
          >
            <option value="plain">Plain</option>
            <option value="secret">Secret</option>
          </select>
        </Field>
        <div className="field field-submit">
          <div className="button-row">
            {onCancel ? <CancelButton onCancel={onCancel} disabled={submitting} /> : null}
            <SubmitButton busy={submitting} testId="env-submit">
              {existing ? "Save" : "Add"}
            </SubmitButton>
          </div>
        </div>
      </div>
      <FormError error={error} fields={FIELDS} testId="env-form-error" />
    </form>
  );
}

function EnvVarRow({
  boxId,
  envVar,
  onChanged,
  onDeleted,
}: {
  boxId: string;
  envVar: EnvVar;
  onChanged: (envVar: EnvVar) => void;
  onDeleted: (key: string) => void;
}) {
  const handleAuth = useAuthRedirect();
  const [editing, setEditing] = useState(false);
  const deletion = useConfirmedDelete(
    () => envApi.remove(boxId, envVar.key),
    () => onDeleted(envVar.key),
  );

  async function update(input: { value: string; type: EnvVarType }) {
    try {
      onChanged(await envApi.update(boxId, envVar.key, { value: input.value, type: input.type }));
      setEditing(false);
    } catch (caught) {
      if (!handleAuth(caught)) {
        throw caught;
      }
    }
  }

  return (
    <li className="env-row" data-testid="env-item" data-key={envVar.key} data-type={envVar.type}>
      {editing ? (
        <EnvVarForm existing={envVar} onSubmit={update} onCancel={() => setEditing(false)} />
      ) : (
        <div className="env-row-view">
          <span className="env-name">
            <code className="env-key" data-testid="env-item-key">
              {envVar.key}
            </code>
            <span className={`badge ${envVar.type === "secret" ? "badge-secret" : "badge-plain"}`}>
              {envVar.type === "secret" ? (
                <>
                  <LockIcon /> secret
                </>
              ) : (
                "plain"
              )}
            </span>
          </span>
          <code className="env-value" data-testid="env-item-value">
            {envVar.type === "secret" ? envVar.maskedValue : envVar.value}
          </code>
          <span className="muted small env-updated">
            <RelativeTime iso={envVar.updatedAt} />
          </span>
          <div className="button-row">
            <button
              type="button"
              className="button button-small"
              onClick={() => setEditing(true)}
              aria-label={`Change ${envVar.key}`}
              data-testid="env-edit"
            >
              {envVar.type === "secret" ? "Replace" : "Edit"}
            </button>
            <DeleteButton label={`Delete ${envVar.key}`} testId="env-delete" onClick={deletion.ask} />
          </div>
        </div>
      )}
      <ConfirmDialog {...deletion.dialog} title={`Delete ${envVar.key}?`} confirmLabel="Delete variable">
        <p>The box loses it at its next deploy.</p>
      </ConfirmDialog>
    </li>
  );
}

export function EnvVarsPanel({ boxId }: { boxId: string }) {
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => envApi.list(boxId), [boxId]);
  const envVars = useResource(load);
  const { setData } = envVars;

  const upsert = useCallback(
    (envVar: EnvVar) => setData((current) => upsertByKey(current, envVar)),
    [setData],
  );

  async function create(input: { key: string; value: string; type: EnvVarType }) {
    try {
      upsert(await envApi.create(boxId, input));
    } catch (caught) {
      if (!handleAuth(caught)) {
        throw caught;
      }
    }
  }

  const list = envVars.data ?? [];

  return (
    <section className="card" aria-labelledby="env-title" data-testid="env-vars">
      <h2 id="env-title" className="card-title">
        Environment variables
      </h2>
      <p className="muted small">
        Set in the box's environment for Claude and its tools. Secrets are encrypted at rest and never shown
        again after saving. Changes reach the box at its next deploy: use Redeploy above to apply them now.
      </p>
      <EnvVarForm onSubmit={create} />
      <h3 className="small-heading">Variables</h3>
      {envVars.error ? (
        <ErrorState
          title="Could not load env vars"
          error={envVars.error}
          onRetry={envVars.reload}
          testId="env-error"
        />
      ) : null}
      {envVars.loading ? (
        <LoadingState label="Loading env vars…" testId="env-loading" />
      ) : list.length === 0 && !envVars.error ? (
        <EmptyState title="No env vars yet" testId="env-empty">
          Add API tokens or settings the agent's tools need.
        </EmptyState>
      ) : (
        <ul className="env-list" data-testid="env-list">
          {list.map((envVar) => (
            <EnvVarRow
              key={envVar.key}
              boxId={boxId}
              envVar={envVar}
              onChanged={upsert}
              onDeleted={(key) => setData((current) => withoutKey(current, key))}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
