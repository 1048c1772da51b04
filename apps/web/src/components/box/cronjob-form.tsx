"use client";

import { useEffect, useId, useState } from "react";
import { fieldIssue } from "@/lib/api-error";
import {
  CRONJOB_OVERLAPS,
  CRONJOB_SESSION_MODES,
  type Cronjob,
  type CronjobInput,
  type CronjobOverlap,
  type CronjobSessionMode,
} from "@/lib/box-api";
import { Field } from "../field";
import { CancelButton, SubmitButton } from "../form-buttons";
import { FormError } from "../form-error";
import { useFormSubmit } from "../use-form-submit";

const FIELDS = [
  "name",
  "schedule",
  "timezone",
  "prompt",
  "overlap",
  "session",
  "model",
  "maxDurationMinutes",
] as const;

const OVERLAP_LABELS: Record<CronjobOverlap, string> = {
  skip: "Skip the tick",
  queue: "Queue it after the previous run",
};
const SESSION_LABELS: Record<CronjobSessionMode, string> = {
  fresh: "Fresh conversation each run",
  continue: "Continue one conversation",
};

/** The limit field as typed: empty is "the agent config's"; anything else goes to the server as a number, which names what is wrong. */
function parseMinutes(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === "" ? null : Number(trimmed);
}

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
  const [overlap, setOverlap] = useState<CronjobOverlap>(initial?.overlap ?? "skip");
  const [session, setSession] = useState<CronjobSessionMode>(initial?.session ?? "fresh");
  const [model, setModel] = useState(initial?.model ?? "");
  const [maxDuration, setMaxDuration] = useState(initial?.maxDurationMinutes?.toString() ?? "");
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
    await onSubmit({
      name,
      schedule,
      prompt,
      timezone: timezone.trim() || undefined,
      overlap,
      session,
      model: model.trim() || null,
      maxDurationMinutes: parseMinutes(maxDuration),
    });
    if (!initial) {
      setName("");
      setSchedule("");
      setPrompt("");
      setModel("");
      setMaxDuration("");
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
      <div className="form-columns">
        <Field label="While the previous run works" htmlFor={id("overlap")} {...errorProps("overlap")}>
          <select
            id={id("overlap")}
            value={overlap}
            onChange={(event) => setOverlap(event.target.value as CronjobOverlap)}
            aria-invalid={issue("overlap") ? true : undefined}
            aria-describedby={describe("overlap")}
            data-testid="cronjob-overlap"
          >
            {CRONJOB_OVERLAPS.map((value) => (
              <option key={value} value={value}>
                {OVERLAP_LABELS[value]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Conversation" htmlFor={id("session")} {...errorProps("session")}>
          <select
            id={id("session")}
            value={session}
            onChange={(event) => setSession(event.target.value as CronjobSessionMode)}
            aria-invalid={issue("session") ? true : undefined}
            aria-describedby={describe("session")}
            data-testid="cronjob-session"
          >
            {CRONJOB_SESSION_MODES.map((value) => (
              <option key={value} value={value}>
                {SESSION_LABELS[value]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Model" htmlFor={id("model")} {...errorProps("model")}>
          <input
            id={id("model")}
            type="text"
            className="mono"
            value={model}
            onChange={(event) => setModel(event.target.value)}
            maxLength={100}
            placeholder="the cron agent config's"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={issue("model") ? true : undefined}
            aria-describedby={describe("model")}
            data-testid="cronjob-model"
          />
        </Field>
        <Field
          label="Time limit (minutes)"
          htmlFor={id("maxDurationMinutes")}
          {...errorProps("maxDurationMinutes")}
        >
          <input
            id={id("maxDurationMinutes")}
            type="number"
            inputMode="numeric"
            min={1}
            max={240}
            step={1}
            value={maxDuration}
            onChange={(event) => setMaxDuration(event.target.value)}
            placeholder="the cron agent config's"
            aria-invalid={issue("maxDurationMinutes") ? true : undefined}
            aria-describedby={describe("maxDurationMinutes", id("maxDurationMinutes-hint"))}
            data-testid="cronjob-max-duration"
          />
          <p id={id("maxDurationMinutes-hint")} className="muted small">
            1 to 240. A run still working after it is stopped.
          </p>
        </Field>
      </div>
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
