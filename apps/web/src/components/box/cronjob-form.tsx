"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import {
  CRONJOB_OVERLAPS,
  CRONJOB_SESSION_MODES,
  createCronjobInput,
  MAX_CRONJOB_DURATION_MINUTES,
} from "@vps-claude/contract";
import { type ComponentProps, type ReactNode, useEffect, useState } from "react";
import { type Control, useForm } from "react-hook-form";
import type { z } from "zod";
import { Button } from "@/components/ui/button";
import {
  Form,
  FormControl,
  FormDescription,
  FormField,
  FormItem,
  FormLabel,
  FormMessage,
} from "@/components/ui/form";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage } from "@/lib/api-error";
import type { Cronjob, CronjobOverlap, CronjobSessionMode } from "@/lib/box-api";
import { showServerIssues } from "@/lib/form-errors";

type CronjobValues = z.input<typeof createCronjobInput>;
/** What the form hands on: the contract's create input, parsed (trimmed) by its own schema. */
export type CronjobFormInput = z.output<typeof createCronjobInput>;

const FIELDS = [
  "name",
  "schedule",
  "timezone",
  "prompt",
  "overlap",
  "session",
  "model",
  "maxDurationMinutes",
] as const satisfies readonly (keyof CronjobValues)[];

const OVERLAP_LABELS: Record<CronjobOverlap, string> = {
  skip: "Skip the tick",
  queue: "Queue it after the previous run",
};
const SESSION_LABELS: Record<CronjobSessionMode, string> = {
  fresh: "Fresh conversation each run",
  continue: "Continue one conversation",
};

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

function defaultsOf(initial: Cronjob | undefined): CronjobValues {
  return {
    name: initial?.name ?? "",
    schedule: initial?.schedule ?? "",
    timezone: initial?.timezone,
    prompt: initial?.prompt ?? "",
    overlap: initial?.overlap ?? "skip",
    session: initial?.session ?? "fresh",
    model: initial?.model ?? null,
    maxDurationMinutes: initial?.maxDurationMinutes ?? null,
  };
}

type TextFieldName = "name" | "schedule" | "timezone" | "model";

/** What an emptied optional field means in the contract: not given (the zone), or null (the model: the agent config's). */
const EMPTY_VALUE = { unset: undefined, null: null } as const;

/** One text input of the form; an emptied optional field is sent as "not set", never as "". */
function TextField({
  control,
  name,
  label,
  whenEmpty,
  description,
  testId,
  inputProps,
}: {
  control: Control<CronjobValues>;
  name: TextFieldName;
  label: string;
  whenEmpty?: keyof typeof EMPTY_VALUE;
  description?: ReactNode;
  testId: string;
  inputProps?: ComponentProps<typeof Input>;
}) {
  return (
    <FormField
      control={control}
      name={name}
      render={({ field }) => (
        <FormItem className="min-w-0">
          <FormLabel>{label}</FormLabel>
          <FormControl>
            <Input
              {...inputProps}
              name={field.name}
              ref={field.ref}
              onBlur={field.onBlur}
              value={field.value ?? ""}
              onChange={(event) =>
                field.onChange(
                  event.target.value === "" && whenEmpty ? EMPTY_VALUE[whenEmpty] : event.target.value,
                )
              }
              autoComplete="off"
              data-testid={testId}
            />
          </FormControl>
          {description ? <FormDescription>{description}</FormDescription> : null}
          <FormMessage data-testid={`cronjob-${name}-error`} />
        </FormItem>
      )}
    />
  );
}

function ChoiceField<Value extends string>({
  control,
  name,
  label,
  options,
  labels,
  testId,
}: {
  control: Control<CronjobValues>;
  name: "overlap" | "session";
  label: string;
  options: readonly Value[];
  labels: Record<Value, string>;
  testId: string;
}) {
  return (
    <FormField
      control={control}
      name={name}
      render={({ field }) => (
        <FormItem className="min-w-0">
          <FormLabel>{label}</FormLabel>
          <Select value={field.value} onValueChange={field.onChange}>
            <FormControl>
              <SelectTrigger ref={field.ref} onBlur={field.onBlur} data-testid={testId}>
                <SelectValue />
              </SelectTrigger>
            </FormControl>
            <SelectContent>
              {options.map((value) => (
                <SelectItem key={value} value={value}>
                  {labels[value]}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
          <FormMessage data-testid={`cronjob-${name}-error`} />
        </FormItem>
      )}
    />
  );
}

interface CronjobFormProps {
  initial?: Cronjob;
  submitLabel: string;
  busyLabel: string;
  /** Rejects with the API's error when the server refuses; its per-field issues go under the fields. */
  onSubmit: (input: CronjobFormInput) => Promise<unknown>;
  onCancel?: () => void;
  testId: string;
}

/** Create or edit a cronjob, checked with the contract's own schema before the server checks it again. */
export function CronjobForm({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
  testId,
}: CronjobFormProps) {
  const form = useForm({ resolver: zodResolver(createCronjobInput), defaultValues: defaultsOf(initial) });
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [timezones, setTimezones] = useState<string[]>([]);
  const { setValue, getValues } = form;

  // The browser's zone and zone list differ from the server's, so they are read after hydration.
  useEffect(() => {
    setTimezones(knownTimezones());
    if (!initial && !getValues("timezone")) {
      setValue("timezone", browserTimezone());
    }
  }, [initial, getValues, setValue]);

  const submit = form.handleSubmit(async (input) => {
    setSubmitError(null);
    try {
      await onSubmit(input);
      if (!initial) {
        form.reset({ ...defaultsOf(undefined), timezone: input.timezone });
      }
    } catch (error) {
      if (!showServerIssues(error, form.setError, FIELDS)) {
        setSubmitError(errorMessage(error));
      }
    }
  });
  const busy = form.formState.isSubmitting;
  const datalistId = `${testId}-timezones`;

  return (
    <Form {...form}>
      <form className="grid gap-4" onSubmit={submit} noValidate aria-label={submitLabel} data-testid={testId}>
        <div className="grid items-start gap-4 sm:grid-cols-3">
          <TextField
            control={form.control}
            name="name"
            label="Name"
            testId="cronjob-name"
            inputProps={{ maxLength: 100, placeholder: "Morning briefing" }}
          />
          <TextField
            control={form.control}
            name="schedule"
            label="Schedule"
            testId="cronjob-schedule"
            inputProps={{ className: "font-mono", placeholder: "0 9 * * 1-5", spellCheck: false }}
            description={
              <>
                minute hour day-of-month month day-of-week: <code>0 9 * * 1-5</code> is 09:00 on weekdays.
              </>
            }
          />
          <TextField
            control={form.control}
            name="timezone"
            label="Timezone"
            whenEmpty="unset"
            testId="cronjob-timezone"
            inputProps={{ list: datalistId, placeholder: "UTC", spellCheck: false }}
            description={
              <>
                An IANA name such as <code>Europe/Berlin</code>.
              </>
            }
          />
        </div>
        <datalist id={datalistId}>
          {timezones.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        <FormField
          control={form.control}
          name="prompt"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Prompt</FormLabel>
              <FormControl>
                <Textarea
                  {...field}
                  rows={3}
                  placeholder="Summarise yesterday's email and send me the highlights."
                  data-testid="cronjob-prompt"
                />
              </FormControl>
              <FormMessage data-testid="cronjob-prompt-error" />
            </FormItem>
          )}
        />
        <div className="grid items-start gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <ChoiceField
            control={form.control}
            name="overlap"
            label="While the previous run works"
            options={CRONJOB_OVERLAPS}
            labels={OVERLAP_LABELS}
            testId="cronjob-overlap"
          />
          <ChoiceField
            control={form.control}
            name="session"
            label="Conversation"
            options={CRONJOB_SESSION_MODES}
            labels={SESSION_LABELS}
            testId="cronjob-session"
          />
          <TextField
            control={form.control}
            name="model"
            label="Model"
            whenEmpty="null"
            testId="cronjob-model"
            inputProps={{
              className: "font-mono",
              maxLength: 100,
              placeholder: "the cron agent config's",
              spellCheck: false,
            }}
          />
          <FormField
            control={form.control}
            name="maxDurationMinutes"
            render={({ field }) => (
              <FormItem className="min-w-0">
                <FormLabel>Time limit (minutes)</FormLabel>
                <FormControl>
                  <Input
                    name={field.name}
                    ref={field.ref}
                    onBlur={field.onBlur}
                    type="number"
                    inputMode="numeric"
                    min={1}
                    max={MAX_CRONJOB_DURATION_MINUTES}
                    step={1}
                    value={field.value ?? ""}
                    onChange={(event) =>
                      field.onChange(event.target.value === "" ? null : event.target.valueAsNumber)
                    }
                    placeholder="the cron agent config's"
                    data-testid="cronjob-max-duration"
                  />
                </FormControl>
                <FormDescription>
                  1 to {MAX_CRONJOB_DURATION_MINUTES}. A run still working then is stopped.
                </FormDescription>
                <FormMessage data-testid="cronjob-maxDurationMinutes-error" />
              </FormItem>
            )}
          />
        </div>
        {submitError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="cronjob-form-error">
            {submitError}
          </p>
        ) : null}
        <div className="flex flex-wrap justify-end gap-2">
          {onCancel ? (
            <Button type="button" variant="outline" onClick={onCancel} disabled={busy}>
              Cancel
            </Button>
          ) : null}
          <Button type="submit" disabled={busy} data-testid="cronjob-submit">
            {busy ? busyLabel : submitLabel}
          </Button>
        </div>
      </form>
    </Form>
  );
}
