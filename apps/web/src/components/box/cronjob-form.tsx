"use client";

import { useEffect, useId, useState } from "react";
import { fieldIssue } from "@/lib/api-error";
import type { Cronjob, CronjobInput } from "@/lib/box-api";
import { Field } from "../field";
import { CancelButton, SubmitButton } from "../form-buttons";
import { FormError } from "../form-error";
import { useFormSubmit } from "../use-form-submit";

const FIELDS = ["name", "schedule", "timezone", "prompt"] as const;

function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function knownTimezones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

interface CronjobFormProps {
  initial?: Cronjob;
  submitLabel: string;
  busyLabel: string;
  /** Throws the API's error when the server refuses; the form shows its messages beside the fields. */
  onSubmit: (input: CronjobInput) => Promise<void>;
  onCancel?: () => void;
  testId: string;
}

export function CronjobForm({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
  testId,
}: CronjobFormProps) {
  const [name, setName] = useState(initial?.name ?? "");
  const [schedule, setSchedule] = useState(initial?.schedule ?? "");
  const [timezone, setTimezone] = useState(initial?.timezone ?? "");
  const [prompt, setPrompt] = useState(initial?.prompt ?? "");
  const baseId = useId();
  const [timezones, setTimezones] = useState<string[]>([]);

  // The browser's zone and the zone list differ from the server's, so they are read after hydration.
  useEffect(() => {
    setTimezones(knownTimezones());
    if (!initial) {
      setTimezone((current) => current || browserTimezone());
    }
  }, [initial]);
  const id = (field: string) => `${baseId}-${field}`;

  const { submitting, error, submit } = useFormSubmit(async () => {
    await onSubmit({ name, schedule, prompt, timezone: timezone.trim() || undefined });
    if (!initial) {
      setName("");
      setSchedule("");
      setPrompt("");
    }
  });

  const issue = (field: (typeof FIELDS)[number]) => fieldIssue(error, field);
  const describe = (field: (typeof FIELDS)[number], hint?: string) =>
    [hint, issue(field) ? id(`${field}-error`) : undefined].filter(Boolean).join(" ") || undefined;
  const errorProps = (field: (typeof FIELDS)[number]) => ({
    error: issue(field),
    errorId: id(`${field}-error`),
    errorTestId: `cronjob-${field}-error`,
  });

  return (
    <form className="cronjob-form" onSubmit={submit} noValidate data-testid={testId} aria-label={submitLabel}>
      <div className="form-columns">
        <Field label="Name" htmlFor={id("name")} {...errorProps("name")}>
          <input
            id={id("name")}
            type="text"
            value={name}
            onChange={(event) => setName(event.target.value)}
            maxLength={100}
            placeholder="Morning briefing"
            autoComplete="off"
            aria-invalid={issue("name") ? true : undefined}
            aria-describedby={describe("name")}
            data-testid="cronjob-name"
          />
        </Field>
        <Field label="Schedule" htmlFor={id("schedule")} {...errorProps("schedule")}>
          <input
            id={id("schedule")}
            type="text"
            className="mono"
            value={schedule}
            onChange={(event) => setSchedule(event.target.value)}
            placeholder="0 9 * * 1-5"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={issue("schedule") ? true : undefined}
            aria-describedby={describe("schedule", id("schedule-hint"))}
            data-testid="cronjob-schedule"
          />
          <p id={id("schedule-hint")} className="muted small">
            Five fields: minute hour day-of-month month day-of-week. <code>0 9 * * 1-5</code> is 09:00 on
            weekdays.
          </p>
        </Field>
        <Field label="Timezone" htmlFor={id("timezone")} {...errorProps("timezone")}>
          <input
            id={id("timezone")}
            type="text"
            list={id("timezones")}
            value={timezone}
            onChange={(event) => setTimezone(event.target.value)}
            placeholder="UTC"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={issue("timezone") ? true : undefined}
            aria-describedby={describe("timezone", id("timezone-hint"))}
            data-testid="cronjob-timezone"
          />
          <datalist id={id("timezones")}>
            {timezones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
          <p id={id("timezone-hint")} className="muted small">
            An IANA name such as <code>Europe/Berlin</code>.
          </p>
        </Field>
      </div>
      <Field label="Prompt" htmlFor={id("prompt")} {...errorProps("prompt")}>
        <textarea
          id={id("prompt")}
          rows={3}
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          placeholder="Summarise yesterday's email and send me the highlights."
          aria-invalid={issue("prompt") ? true : undefined}
          aria-describedby={describe("prompt")}
          data-testid="cronjob-prompt"
        />
      </Field>
      <FormError error={error} fields={FIELDS} testId="cronjob-form-error" />
      <div className="form-actions">
        {onCancel ? <CancelButton onCancel={onCancel} disabled={submitting} /> : null}
        <SubmitButton busy={submitting} busyLabel={busyLabel} testId="cronjob-submit">
          {submitLabel}
        </SubmitButton>
      </div>
    </form>
  );
}
