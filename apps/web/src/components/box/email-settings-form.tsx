"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SENDER_POLICIES, updateEmailSettingsInput } from "@vps-claude/contract";
import { useId } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Label } from "@/components/ui/label";
import { RadioGroup, RadioGroupItem } from "@/components/ui/radio-group";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage } from "@/lib/api-error";
import type { EmailSettings, SenderPolicy } from "@/lib/box-api";
import { showServerIssues } from "@/lib/form-errors";
import { orpc } from "@/lib/orpc";
import { ErrorState, LoadingState } from "../panel-states";

type RulesField = "allowedSenders" | "blockedSenders";

function parseRules(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((rule) => rule.trim())
    .filter((rule) => rule.length > 0);
}

/**
 * A textarea of rules, one per line, checked by the contract's own rule for the list; an issue names
 * the entry it is about ("'bob@': each entry must be…"), since the textarea has no per-entry fields.
 */
function rulesText(field: RulesField) {
  return z.string().superRefine((text, ctx) => {
    const rules = parseRules(text);
    const parsed = updateEmailSettingsInput.shape[field].safeParse(rules);
    for (const issue of parsed.error?.issues ?? []) {
      const index = issue.path[0];
      const entry = typeof index === "number" ? rules[index] : undefined;
      ctx.addIssue({
        code: "custom",
        message: entry === undefined ? issue.message : `'${entry}': ${issue.message}`,
      });
    }
  });
}

const senderRulesForm = z.object({
  senderPolicy: z.enum(SENDER_POLICIES),
  allowedSenders: rulesText("allowedSenders"),
  blockedSenders: rulesText("blockedSenders"),
});

const POLICY_LABELS: Record<SenderPolicy, string> = {
  anyone: "Anyone (except blocked senders)",
  allowlist: "Only senders on the allowlist",
};

const RULE_FIELDS: { name: RulesField; label: string; placeholder: string; testId: string }[] = [
  {
    name: "allowedSenders",
    label: "Allowed senders",
    placeholder: "you@example.com\n@yourcompany.com",
    testId: "allowed-senders",
  },
  {
    name: "blockedSenders",
    label: "Blocked senders",
    placeholder: "spammer@example.net",
    testId: "blocked-senders",
  },
];

function toFormValues(settings: EmailSettings) {
  return {
    senderPolicy: settings.senderPolicy,
    allowedSenders: settings.allowedSenders.join("\n"),
    blockedSenders: settings.blockedSenders.join("\n"),
  };
}

function SenderRulesForm({ boxId, settings }: { boxId: string; settings: EmailSettings }) {
  const queryClient = useQueryClient();
  const idPrefix = useId();
  const form = useForm({ resolver: zodResolver(senderRulesForm), defaultValues: toFormValues(settings) });
  const save = useMutation(
    orpc.email.updateSettings.mutationOptions({
      onSuccess: (updated) => {
        queryClient.setQueryData(orpc.email.getSettings.queryKey({ input: { boxId } }), updated);
        form.reset(toFormValues(updated));
      },
      onError: (error) => showServerIssues(error, form.setError, ["allowedSenders", "blockedSenders"]),
    }),
  );
  const [policy, allowed] = form.watch(["senderPolicy", "allowedSenders"]);
  const fieldErrors = form.formState.errors;
  const saveError =
    save.error && !fieldErrors.allowedSenders && !fieldErrors.blockedSenders
      ? errorMessage(save.error)
      : null;

  return (
    <Form {...form}>
      <form
        className="grid gap-4"
        onSubmit={form.handleSubmit((input) =>
          save.mutate({
            boxId,
            senderPolicy: input.senderPolicy,
            allowedSenders: parseRules(input.allowedSenders),
            blockedSenders: parseRules(input.blockedSenders),
          }),
        )}
        noValidate
        aria-label="Sender rules"
      >
        <FormField
          control={form.control}
          name="senderPolicy"
          render={({ field }) => (
            <fieldset className="grid gap-2">
              <legend id={`${idPrefix}-policy`} className="mb-1 text-sm font-medium">
                Accept mail from
              </legend>
              <RadioGroup
                value={field.value}
                onValueChange={field.onChange}
                aria-labelledby={`${idPrefix}-policy`}
                className="gap-2"
              >
                {SENDER_POLICIES.map((value) => (
                  <div key={value} className="flex items-center gap-2">
                    <RadioGroupItem
                      value={value}
                      id={`${idPrefix}-policy-${value}`}
                      data-testid={`sender-policy-${value}`}
                    />
                    <Label htmlFor={`${idPrefix}-policy-${value}`} className="font-normal">
                      {POLICY_LABELS[value]}
                    </Label>
                  </div>
                ))}
              </RadioGroup>
            </fieldset>
          )}
        />
        <div className="grid items-start gap-4 sm:grid-cols-2">
          {RULE_FIELDS.map((rules) => (
            <FormField
              key={rules.name}
              control={form.control}
              name={rules.name}
              render={({ field }) => (
                <FormItem className="min-w-0">
                  <FormLabel>{rules.label}</FormLabel>
                  <FormControl>
                    <Textarea
                      {...field}
                      rows={4}
                      placeholder={rules.placeholder}
                      data-testid={rules.testId}
                    />
                  </FormControl>
                  <FormMessage data-testid={`${rules.testId}-error`} />
                </FormItem>
              )}
            />
          ))}
        </div>
        {policy === "allowlist" && parseRules(allowed).length === 0 ? (
          <Alert variant="warning" role="note">
            <AlertDescription>With an empty allowlist, every incoming email is refused.</AlertDescription>
          </Alert>
        ) : null}
        {saveError ? (
          <p className="text-sm text-destructive" role="alert">
            {saveError}
          </p>
        ) : null}
        <div className="flex flex-wrap items-center justify-end gap-3">
          <span className="text-sm text-muted-foreground" role="status">
            {save.isSuccess && !form.formState.isDirty ? "Saved." : null}
          </span>
          <Button type="submit" disabled={save.isPending} data-testid="sender-rules-save">
            {save.isPending ? "Saving…" : "Save sender rules"}
          </Button>
        </div>
      </form>
    </Form>
  );
}

export function EmailSettingsForm({ boxId }: { boxId: string }) {
  const settings = useQuery(orpc.email.getSettings.queryOptions({ input: { boxId } }));
  return (
    <Card data-testid="email-settings">
      <CardHeader>
        <CardTitle>Sender rules</CardTitle>
        <CardDescription>
          Who may wake this box by email. Blocked senders are always refused; entries are addresses or{" "}
          <code className="font-mono">@domain.tld</code>, one per line.
        </CardDescription>
      </CardHeader>
      <CardContent>
        {settings.isError ? (
          <ErrorState
            title="Could not load the sender rules"
            error={settings.error}
            onRetry={() => settings.refetch()}
          />
        ) : null}
        {settings.isPending ? <LoadingState label="Loading sender rules…" /> : null}
        {settings.data ? <SenderRulesForm boxId={boxId} settings={settings.data} /> : null}
      </CardContent>
    </Card>
  );
}
