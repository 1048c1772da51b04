"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { type UseQueryResult, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  MAX_POLICY_DOMAINS,
  NETWORK_POLICY_MODES,
  normalizeDomain,
  setBudgetInput,
  updateNetworkPolicyInput,
} from "@vps-claude/contract";
import { PlusIcon, XIcon } from "lucide-react";
import { type ReactNode, useState } from "react";
import { type UseFormReturn, useFieldArray, useForm } from "react-hook-form";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
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
import { Label } from "@/components/ui/label";
import { RadioGroup, RadioGroupItem } from "@/components/ui/radio-group";
import { errorMessage, issuesAllShown } from "@/lib/api-error";
import { showServerIssues } from "@/lib/form-errors";
import { orpc } from "@/lib/orpc";
import { budgetInputText, formatUsd, parseBudgetAmount } from "@/lib/usage";
import type { BoxBudget } from "@/lib/usage-api";
import { ErrorState, LoadingState } from "../panel-states";
import { SubmitButton } from "./submit-button";

type NetworkPolicyMode = (typeof NETWORK_POLICY_MODES)[number];
type NetworkPolicy = { mode: NetworkPolicyMode; domains: string[] };

const MODE_TEXT: Record<NetworkPolicyMode, { label: string; description: string }> = {
  internet: { label: "The whole internet", description: "The box may connect to any public address." },
  allowlist: {
    label: "Only these domains",
    description: "The box reaches the platform and the domains listed below, nothing else.",
  },
  platform: { label: "Only the platform", description: "No connection leaves for the internet." },
};

/**
 * The contract's mode, and each allowlist entry checked by the contract's own domain rules so the
 * error sits under the entry it is about. Entries only count in allowlist mode.
 */
const networkPolicyForm = z
  .object({
    mode: updateNetworkPolicyInput.shape.mode,
    domains: z
      .array(z.object({ value: z.string() }))
      .max(MAX_POLICY_DOMAINS, `at most ${MAX_POLICY_DOMAINS} domains are allowed`),
  })
  .superRefine((policy, ctx) => {
    if (policy.mode !== "allowlist") {
      return;
    }
    policy.domains.forEach((entry, index) => {
      const checked = normalizeDomain(entry.value);
      if ("error" in checked) {
        ctx.addIssue({ code: "custom", path: ["domains", index, "value"], message: checked.error });
      }
    });
  });
type NetworkPolicyValues = z.infer<typeof networkPolicyForm>;

function policyValues(policy: NetworkPolicy): NetworkPolicyValues {
  return { mode: policy.mode, domains: policy.domains.map((value) => ({ value })) };
}

function SavedNote({ shown, testId }: { shown: boolean; testId: string }) {
  return (
    <span className="text-sm text-muted-foreground" role="status" data-testid={testId}>
      {shown ? "Saved." : null}
    </span>
  );
}

function DomainList({ form }: { form: UseFormReturn<NetworkPolicyValues> }) {
  const domains = useFieldArray({ control: form.control, name: "domains" });
  const listError = form.formState.errors.domains?.message;
  return (
    <fieldset className="grid gap-2" data-testid="network-domains">
      <legend className="mb-1 text-sm font-medium">Allowed domains</legend>
      <p className="text-sm text-muted-foreground">
        A host name such as <code>api.github.com</code>, or <code>*.example.com</code> for every name below
        it. Every port is covered.
      </p>
      {domains.fields.length === 0 ? (
        <p className="text-sm text-muted-foreground" data-testid="network-domains-empty">
          No domains yet: the box reaches only the platform.
        </p>
      ) : (
        <ul className="grid gap-2">
          {domains.fields.map((entry, index) => (
            <li key={entry.id} data-testid="network-domain">
              <FormField
                control={form.control}
                name={`domains.${index}.value`}
                render={({ field }) => (
                  <FormItem className="gap-1">
                    <FormLabel className="sr-only">Domain {index + 1}</FormLabel>
                    <div className="flex gap-2">
                      <FormControl>
                        <Input
                          {...field}
                          className="font-mono"
                          placeholder="example.com"
                          autoComplete="off"
                          spellCheck={false}
                          data-testid="network-domain-input"
                        />
                      </FormControl>
                      <Button
                        type="button"
                        variant="outline"
                        size="icon"
                        onClick={() => domains.remove(index)}
                        aria-label={`Remove domain ${index + 1}${field.value ? ` (${field.value})` : ""}`}
                        data-testid="network-domain-remove"
                      >
                        <XIcon aria-hidden />
                      </Button>
                    </div>
                    <FormMessage data-testid="network-domain-error" />
                  </FormItem>
                )}
              />
            </li>
          ))}
        </ul>
      )}
      {listError ? (
        <p className="text-sm text-destructive" role="alert" data-testid="network-domains-error">
          {listError}
        </p>
      ) : null}
      <div>
        <Button
          type="button"
          variant="outline"
          size="sm"
          onClick={() => domains.append({ value: "" })}
          data-testid="network-domain-add"
        >
          <PlusIcon aria-hidden /> Add domain
        </Button>
      </div>
    </fieldset>
  );
}

function NetworkPolicyForm({ boxId, policy }: { boxId: string; policy: NetworkPolicy }) {
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  // The server's answer to a save resets the form (normalized entries); `values` would race that reset.
  const form = useForm<NetworkPolicyValues>({
    resolver: zodResolver(networkPolicyForm),
    defaultValues: policyValues(policy),
  });
  const save = useMutation(
    orpc.networkPolicy.update.mutationOptions({
      onSuccess: async (updated) => {
        form.reset(policyValues(updated));
        setSaved(true);
        await queryClient.invalidateQueries({ queryKey: orpc.networkPolicy.key() });
      },
      onError: (error) => showServerIssues(error, form.setError, ["mode", "domains"]),
    }),
  );
  const formError =
    save.error && !issuesAllShown(save.error, ["mode", "domains"]) ? errorMessage(save.error) : null;
  const mode = form.watch("mode");

  return (
    <Form {...form}>
      <form
        className="grid gap-4"
        onSubmit={form.handleSubmit(({ mode: chosen, domains }) => {
          setSaved(false);
          // Domains only mean something for an allowlist; what is saved is what applies.
          const listed = chosen === "allowlist" ? domains.map((entry) => entry.value) : [];
          save.mutate({ boxId, mode: chosen, domains: listed });
        })}
        noValidate
        aria-label="Network policy"
        data-testid="network-policy-form"
      >
        <FormField
          control={form.control}
          name="mode"
          render={({ field }) => (
            <FormItem>
              <p id="network-mode-label" className="text-sm font-medium">
                Where the box may connect
              </p>
              <RadioGroup
                value={field.value}
                onValueChange={field.onChange}
                aria-labelledby="network-mode-label"
                data-testid="network-mode"
              >
                {NETWORK_POLICY_MODES.map((option) => (
                  <div key={option} className="flex items-start gap-3">
                    <RadioGroupItem
                      value={option}
                      id={`network-mode-${option}`}
                      className="mt-0.5"
                      aria-describedby={`network-mode-${option}-description`}
                    />
                    <div className="grid gap-0.5">
                      <Label htmlFor={`network-mode-${option}`}>{MODE_TEXT[option].label}</Label>
                      <p id={`network-mode-${option}-description`} className="text-sm text-muted-foreground">
                        {MODE_TEXT[option].description}
                      </p>
                    </div>
                  </div>
                ))}
              </RadioGroup>
              <FormDescription>
                Private, local and cloud metadata addresses stay unreachable in every mode. A change applies
                to the running box at once.
              </FormDescription>
              <FormMessage />
            </FormItem>
          )}
        />
        {mode === "allowlist" ? <DomainList form={form} /> : null}
        {formError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="network-policy-error">
            {formError}
          </p>
        ) : null}
        <div className="flex flex-wrap items-center justify-end gap-2">
          <SavedNote shown={saved} testId="network-policy-saved" />
          <SubmitButton
            pending={save.isPending}
            disabled={!form.formState.isDirty}
            testId="network-policy-save"
          >
            Save network policy
          </SubmitButton>
        </div>
      </form>
    </Form>
  );
}

/** "", "$25" or "12.50" as the contract's `monthlyUsd`: empty is no cap of the box's own. */
const budgetForm = z.object({
  monthlyUsd: z
    .string()
    .transform((text, ctx) => {
      const amount = parseBudgetAmount(text);
      if (!amount.ok) {
        ctx.addIssue({ code: "custom", message: amount.message });
        return z.NEVER;
      }
      return amount.value;
    })
    .pipe(setBudgetInput.shape.monthlyUsd),
});

function BoxBudgetForm({ boxId, budget }: { boxId: string; budget: BoxBudget }) {
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  const form = useForm<z.input<typeof budgetForm>, unknown, z.output<typeof budgetForm>>({
    resolver: zodResolver(budgetForm),
    values: { monthlyUsd: budgetInputText(budget.monthlyUsd) },
    resetOptions: { keepDirtyValues: true },
  });
  const save = useMutation(
    orpc.budget.setBox.mutationOptions({
      onSuccess: async (updated) => {
        form.reset({ monthlyUsd: budgetInputText(updated.monthlyUsd) });
        setSaved(true);
        // The user's banner and usage page read the same spend and caps.
        await queryClient.invalidateQueries({ queryKey: orpc.budget.key() });
      },
      onError: (error) => showServerIssues(error, form.setError, ["monthlyUsd"]),
    }),
  );
  const formError =
    save.error && !issuesAllShown(save.error, ["monthlyUsd"]) ? errorMessage(save.error) : null;

  return (
    <Form {...form}>
      <form
        className="grid gap-3"
        onSubmit={form.handleSubmit(({ monthlyUsd }) => {
          setSaved(false);
          save.mutate({ boxId, monthlyUsd });
        })}
        noValidate
        aria-label="Monthly budget of this box"
        data-testid="box-budget-form"
      >
        <p className="text-sm" data-testid="box-budget-spent">
          Spent in {budget.period}: <strong>{formatUsd(budget.spentUsd)}</strong>
          {budget.monthlyUsd === null ? " (no cap of its own)" : ` of ${formatUsd(budget.monthlyUsd)}`}
        </p>
        <FormField
          control={form.control}
          name="monthlyUsd"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Monthly cap (US dollars)</FormLabel>
              <div className="flex flex-wrap gap-2">
                <FormControl>
                  <Input
                    {...field}
                    className="max-w-48"
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder="No cap"
                    data-testid="box-budget-input"
                  />
                </FormControl>
                <SubmitButton
                  pending={save.isPending}
                  disabled={!form.formState.isDirty}
                  testId="box-budget-save"
                >
                  Save budget
                </SubmitButton>
              </div>
              <FormDescription>
                The box's runs stop when its spend this month reaches the cap. Leave it empty for none; your
                account's own cap still applies.
              </FormDescription>
              <FormMessage data-testid="box-budget-error" />
            </FormItem>
          )}
        />
        {formError ? (
          <p className="text-sm text-destructive" role="alert">
            {formError}
          </p>
        ) : null}
        <SavedNote shown={saved} testId="box-budget-saved" />
      </form>
    </Form>
  );
}

interface SettingsCardProps<Data> {
  id: string;
  title: string;
  description: string;
  /** "the network policy": named in the loading and error lines. */
  subject: string;
  query: UseQueryResult<Data>;
  children: (data: Data) => ReactNode;
}

function SettingsCard<Data>({ id, title, description, subject, query, children }: SettingsCardProps<Data>) {
  return (
    <Card role="region" aria-labelledby={`${id}-title`} data-testid={id}>
      <CardHeader>
        <CardTitle id={`${id}-title`}>{title}</CardTitle>
        <CardDescription>{description}</CardDescription>
      </CardHeader>
      <CardContent>
        {query.isPending ? (
          <LoadingState label={`Loading ${subject}…`} />
        ) : query.isError ? (
          <ErrorState
            title={`Could not load ${subject}`}
            error={query.error}
            onRetry={query.refetch}
            testId={`${id}-load-error`}
          />
        ) : (
          children(query.data)
        )}
      </CardContent>
    </Card>
  );
}

/** The box's own settings: where it may connect, and how much it may spend. */
export function BoxSettingsPanel({ boxId }: { boxId: string }) {
  const policy = useQuery(orpc.networkPolicy.get.queryOptions({ input: { boxId } }));
  const budget = useQuery(orpc.budget.getBox.queryOptions({ input: { boxId } }));

  return (
    <div className="grid gap-6" data-testid="box-settings">
      <SettingsCard
        id="network-policy"
        title="Network"
        description="Which outside hosts Claude and its tools can reach from this box."
        subject="the network policy"
        query={policy}
      >
        {(data) => <NetworkPolicyForm boxId={boxId} policy={data} />}
      </SettingsCard>
      <SettingsCard
        id="box-budget"
        title="Budget"
        description="A monthly spend cap for this box's model and media use."
        subject="the budget"
        query={budget}
      >
        {(data) => <BoxBudgetForm boxId={boxId} budget={data} />}
      </SettingsCard>
    </div>
  );
}
