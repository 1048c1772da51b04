"use client";

import { type FormEvent, useCallback, useId, useState } from "react";
import { errorMessage, fieldIssue } from "@/lib/api-error";
import { type Credential, credentialsApi } from "@/lib/box-api";
import { upsertByKey, withoutKey } from "@/lib/keyed-list";
import { ConfirmDialog } from "./confirm-dialog";
import { DeleteButton } from "./delete-button";
import { Field } from "./field";
import { SubmitButton } from "./form-buttons";
import { LockIcon } from "./icons";
import { EmptyState, ErrorState, LoadingState } from "./panel-states";
import { RelativeTime } from "./relative-time";
import { useAuthRedirect } from "./use-auth-redirect";
import { useConfirmedDelete } from "./use-confirmed-delete";
import { useFormSubmit } from "./use-form-submit";
import { useResource } from "./use-resource";

const SUGGESTED_KEYS = [
  "ANTHROPIC_API_KEY",
  "GITHUB_TOKEN",
  "OPENAI_API_KEY",
  "FAL_KEY",
  "REPLICATE_API_TOKEN",
  "ELEVENLABS_API_KEY",
];

function CredentialForm({
  onCreate,
}: {
  onCreate: (input: { key: string; value: string }) => Promise<void>;
}) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const baseId = useId();
  const id = (field: string) => `${baseId}-${field}`;

  const { submitting, error, submit } = useFormSubmit(async () => {
    await onCreate({ key: key.trim(), value });
    setKey("");
    setValue("");
  });

  const keyIssue = fieldIssue(error, "key");
  const valueIssue = fieldIssue(error, "value");

  return (
    <form
      className="env-form"
      onSubmit={submit}
      noValidate
      aria-label="Add a credential"
      data-testid="credential-form"
    >
      <div className="credential-form-grid">
        <Field label="Name" htmlFor={id("key")} error={keyIssue} errorId={id("key-error")}>
          <input
            id={id("key")}
            type="text"
            className="mono"
            list={id("keys")}
            value={key}
            onChange={(event) => setKey(event.target.value)}
            placeholder="ANTHROPIC_API_KEY"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={keyIssue ? true : undefined}
            aria-describedby={keyIssue ? id("key-error") : undefined}
            data-testid="credential-key"
          />
          <datalist id={id("keys")}>
            {SUGGESTED_KEYS.map((suggestion) => (
              <option key={suggestion} value={suggestion} />
            ))}
          </datalist>
        </Field>
        <Field label="Value" htmlFor={id("value")} error={valueIssue} errorId={id("value-error")}>
          <input
            id={id("value")}
            type="password"
            autoComplete="new-password"
            className="mono"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            spellCheck={false}
            aria-invalid={valueIssue ? true : undefined}
            aria-describedby={valueIssue ? id("value-error") : undefined}
            data-testid="credential-value"
          />
        </Field>
        <div className="field field-submit">
          <SubmitButton busy={submitting} testId="credential-submit">
            Add credential
          </SubmitButton>
        </div>
      </div>
      {error && !keyIssue && !valueIssue ? (
        <p className="form-error" role="alert" data-testid="credential-error">
          {errorMessage(error)}
        </p>
      ) : null}
    </form>
  );
}

function CredentialRow({
  credential,
  onChanged,
  onDeleted,
}: {
  credential: Credential;
  onChanged: (credential: Credential) => void;
  onDeleted: (key: string) => void;
}) {
  const handleAuth = useAuthRedirect();
  const [replacing, setReplacing] = useState(false);
  const [value, setValue] = useState("");
  const [saving, setSaving] = useState(false);
  const [replaceError, setReplaceError] = useState<string | null>(null);
  const deletion = useConfirmedDelete(
    () => credentialsApi.remove(credential.key),
    () => onDeleted(credential.key),
  );
  const valueId = useId();

  async function replace(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaving(true);
    setReplaceError(null);
    try {
      onChanged(await credentialsApi.update(credential.key, value));
      setReplacing(false);
      setValue("");
    } catch (caught) {
      if (!handleAuth(caught)) {
        setReplaceError(fieldIssue(caught, "value") ?? errorMessage(caught));
      }
    } finally {
      setSaving(false);
    }
  }

  return (
    <li className="env-row" data-testid="credential-item" data-key={credential.key}>
      <div className="env-row-view">
        <span className="env-name">
          <code className="env-key" data-testid="credential-item-key">
            {credential.key}
          </code>
          <span className="badge badge-secret">
            <LockIcon /> secret
          </span>
        </span>
        <code className="env-value" data-testid="credential-item-value">
          {credential.maskedValue}
        </code>
        <span className="muted small env-updated">
          <RelativeTime iso={credential.updatedAt} />
        </span>
        <div className="button-row">
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setReplacing((open) => !open);
              setReplaceError(null);
            }}
            aria-expanded={replacing}
            aria-label={`Replace ${credential.key}`}
            data-testid="credential-replace"
          >
            Replace
          </button>
          <DeleteButton
            label={`Delete ${credential.key}`}
            testId="credential-delete"
            onClick={deletion.ask}
          />
        </div>
      </div>
      {replacing ? (
        <form className="replace-form" onSubmit={replace} noValidate aria-label={`Replace ${credential.key}`}>
          <label htmlFor={valueId}>New value for {credential.key}</label>
          <div className="inline-form">
            <input
              id={valueId}
              type="password"
              autoComplete="new-password"
              className="mono"
              value={value}
              onChange={(event) => setValue(event.target.value)}
              aria-invalid={replaceError ? true : undefined}
              data-testid="credential-replace-value"
            />
            <SubmitButton busy={saving}>Save</SubmitButton>
          </div>
          {replaceError ? (
            <p className="form-error" role="alert">
              {replaceError}
            </p>
          ) : null}
        </form>
      ) : null}
      <ConfirmDialog
        {...deletion.dialog}
        title={`Delete ${credential.key}?`}
        confirmLabel="Delete credential"
      >
        <p>
          {credential.key === "ANTHROPIC_API_KEY"
            ? "Your boxes switch to the platform's key within seconds."
            : "Your boxes lose it at their next deploy."}
        </p>
      </ConfirmDialog>
    </li>
  );
}

export function CredentialsPanel() {
  const handleAuth = useAuthRedirect();
  const credentials = useResource(credentialsApi.list);
  const { setData } = credentials;

  const upsert = useCallback(
    (credential: Credential) => setData((current) => upsertByKey(current, credential)),
    [setData],
  );

  async function create(input: { key: string; value: string }) {
    try {
      upsert(await credentialsApi.create(input));
    } catch (caught) {
      if (!handleAuth(caught)) {
        throw caught;
      }
    }
  }

  const list = credentials.data ?? [];
  const hasAnthropicKey = list.some((credential) => credential.key === "ANTHROPIC_API_KEY");

  return (
    <section className="card" aria-labelledby="credentials-title" data-testid="credentials">
      <h2 id="credentials-title" className="card-title">
        Credentials
      </h2>
      <div className="muted small prose">
        <p>
          Credentials are encrypted at rest and never shown again after saving. Each one reaches every box you
          own as an environment variable (a box's own env var of the same name wins).
        </p>
        <p>
          <strong>
            <code>ANTHROPIC_API_KEY</code>
          </strong>{" "}
          is special: it never enters a box. Claude in your boxes reaches the model through the platform,
          which adds your key instead of the platform's{hasAnthropicKey ? " — yours is set" : ""}; a change
          applies within seconds, without a redeploy. Other credentials are applied at each box's next deploy.
        </p>
      </div>
      <CredentialForm onCreate={create} />
      <h3 className="small-heading">Saved credentials</h3>
      {credentials.error ? (
        <ErrorState
          title="Could not load your credentials"
          error={credentials.error}
          onRetry={credentials.reload}
          testId="credentials-error"
        />
      ) : null}
      {credentials.loading ? (
        <LoadingState label="Loading credentials…" testId="credentials-loading" />
      ) : list.length === 0 && !credentials.error ? (
        <EmptyState title="No credentials yet" testId="credentials-empty">
          Add <code>ANTHROPIC_API_KEY</code> so your boxes run on your own Anthropic account.
        </EmptyState>
      ) : (
        <ul className="env-list" data-testid="credential-list">
          {list.map((credential) => (
            <CredentialRow
              key={credential.key}
              credential={credential}
              onChanged={upsert}
              onDeleted={(key) => setData((current) => withoutKey(current, key))}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
