"use client";

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { ApiError, errorMessage } from "@/lib/api-error";
import { type EmailSettings, emailsApi, type SenderPolicy } from "@/lib/box-api";
import { Field } from "../field";
import { SubmitButton } from "../form-buttons";
import { ErrorState, LoadingState } from "../panel-states";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";

function parseRules(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((rule) => rule.trim())
    .filter((rule) => rule.length > 0);
}

/** The server names a bad entry by its index; say which entry that was. */
function ruleIssue(failure: SaveFailure | null, field: "allowedSenders" | "blockedSenders"): string | null {
  if (!failure || !(failure.error instanceof ApiError)) {
    return null;
  }
  const issue = failure.error.issues.find(
    (candidate) => candidate.path === field || candidate.path.startsWith(`${field}.`),
  );
  if (!issue) {
    return null;
  }
  const index = Number(issue.path.slice(field.length + 1));
  const entry = Number.isInteger(index) ? failure.submitted[field][index] : undefined;
  return entry === undefined ? issue.message : `'${entry}': ${issue.message}`;
}

interface SaveFailure {
  error: unknown;
  submitted: { allowedSenders: string[]; blockedSenders: string[] };
}

export function EmailSettingsForm({ boxId }: { boxId: string }) {
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => emailsApi.settings(boxId), [boxId]);
  const settings = useResource(load);
  const [policy, setPolicy] = useState<SenderPolicy>("anyone");
  const [allowed, setAllowed] = useState("");
  const [blocked, setBlocked] = useState("");
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<SaveFailure | null>(null);
  const [saved, setSaved] = useState(false);
  const ids = {
    allowed: useId(),
    blocked: useId(),
    allowedError: useId(),
    blockedError: useId(),
    policy: useId(),
  };

  const apply = useCallback((value: EmailSettings) => {
    setPolicy(value.senderPolicy);
    setAllowed(value.allowedSenders.join("\n"));
    setBlocked(value.blockedSenders.join("\n"));
  }, []);

  useEffect(() => {
    if (settings.data) {
      apply(settings.data);
    }
  }, [settings.data, apply]);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaving(true);
    setSaveError(null);
    setSaved(false);
    const submitted = { allowedSenders: parseRules(allowed), blockedSenders: parseRules(blocked) };
    try {
      const updated = await emailsApi.updateSettings(boxId, { senderPolicy: policy, ...submitted });
      settings.setData(updated);
      setSaved(true);
    } catch (caught) {
      if (!handleAuth(caught)) {
        setSaveError({ error: caught, submitted });
      }
    } finally {
      setSaving(false);
    }
  }

  const allowedIssue = ruleIssue(saveError, "allowedSenders");
  const blockedIssue = ruleIssue(saveError, "blockedSenders");

  return (
    <section className="card" aria-labelledby="sender-rules-title" data-testid="email-settings">
      <h2 id="sender-rules-title" className="card-title">
        Sender rules
      </h2>
      <p className="muted small">
        Who may wake this box by email. Blocked senders are always refused; entries are addresses or{" "}
        <code>@domain.tld</code>, one per line.
      </p>
      {settings.error && !settings.data ? (
        <ErrorState
          title="Could not load the sender rules"
          error={settings.error}
          onRetry={settings.reload}
        />
      ) : null}
      {settings.loading ? <LoadingState label="Loading sender rules…" /> : null}
      {settings.data ? (
        <form onSubmit={save} noValidate aria-label="Sender rules">
          <fieldset className="fieldset">
            <legend id={ids.policy}>Accept mail from</legend>
            <label className="choice">
              <input
                type="radio"
                name="senderPolicy"
                value="anyone"
                checked={policy === "anyone"}
                onChange={() => setPolicy("anyone")}
                data-testid="sender-policy-anyone"
              />
              Anyone (except blocked senders)
            </label>
            <label className="choice">
              <input
                type="radio"
                name="senderPolicy"
                value="allowlist"
                checked={policy === "allowlist"}
                onChange={() => setPolicy("allowlist")}
                data-testid="sender-policy-allowlist"
              />
              Only senders on the allowlist
            </label>
          </fieldset>
          <div className="form-columns">
            <Field
              label="Allowed senders"
              htmlFor={ids.allowed}
              error={allowedIssue}
              errorId={ids.allowedError}
            >
              <textarea
                id={ids.allowed}
                rows={4}
                value={allowed}
                onChange={(event) => setAllowed(event.target.value)}
                placeholder={"you@example.com\n@yourcompany.com"}
                aria-invalid={allowedIssue ? true : undefined}
                aria-describedby={allowedIssue ? ids.allowedError : undefined}
                data-testid="allowed-senders"
              />
            </Field>
            <Field
              label="Blocked senders"
              htmlFor={ids.blocked}
              error={blockedIssue}
              errorId={ids.blockedError}
            >
              <textarea
                id={ids.blocked}
                rows={4}
                value={blocked}
                onChange={(event) => setBlocked(event.target.value)}
                placeholder="spammer@example.net"
                aria-invalid={blockedIssue ? true : undefined}
                aria-describedby={blockedIssue ? ids.blockedError : undefined}
                data-testid="blocked-senders"
              />
            </Field>
          </div>
          {policy === "allowlist" && parseRules(allowed).length === 0 ? (
            <p className="banner" role="note">
              With an empty allowlist, every incoming email is refused.
            </p>
          ) : null}
          {saveError && !allowedIssue && !blockedIssue ? (
            <p className="form-error" role="alert">
              {errorMessage(saveError.error)}
            </p>
          ) : null}
          <div className="form-actions">
            {saved ? (
              <span className="muted small" role="status">
                Saved.
              </span>
            ) : null}
            <SubmitButton busy={saving} testId="sender-rules-save">
              Save sender rules
            </SubmitButton>
          </div>
        </form>
      ) : null}
    </section>
  );
}
