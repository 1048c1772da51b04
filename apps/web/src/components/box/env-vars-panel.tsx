"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { envVarKey, envVarType, secretValue } from "@vps-claude/contract";
import { LockIcon } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { errorMessage, issuesAllShown } from "@/lib/api-error";
import type { EnvVar } from "@/lib/box-api";
import { showServerIssues } from "@/lib/form-errors";
import { api, orpc } from "@/lib/orpc";
import { ConfirmDialog } from "../confirm-dialog";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { SubmitButton } from "./submit-button";

/** The server's own rules for a variable (the contract's schemas), without the box id the route adds. */
const envVarForm = z.object({ key: envVarKey, value: secretValue, type: envVarType });
type EnvVarValues = z.infer<typeof envVarForm>;
const FIELDS = ["key", "value", "type"] as const;

interface EnvVarFormProps {
  boxId: string;
  /** Editing an existing variable: its key is fixed and a secret's value is never prefilled. */
  existing?: EnvVar;
  onDone?: () => void;
}

function EnvVarForm({ boxId, existing, onDone }: EnvVarFormProps) {
  const queryClient = useQueryClient();
  const form = useForm<EnvVarValues>({
    resolver: zodResolver(envVarForm),
    defaultValues: {
      key: existing?.key ?? "",
      value: existing?.type === "plain" ? (existing.value ?? "") : "",
      type: existing?.type ?? "plain",
    },
  });
  const save = useMutation({
    mutationFn: (values: EnvVarValues) =>
      existing ? api.envVar.update({ boxId, ...values }) : api.envVar.create({ boxId, ...values }),
    onSuccess: async () => {
      if (!existing) {
        form.reset();
      }
      onDone?.();
      await queryClient.invalidateQueries({ queryKey: orpc.envVar.key() });
    },
    onError: (error) => showServerIssues(error, form.setError, FIELDS),
  });
  const secret = form.watch("type") === "secret";
  const replacingSecret = existing?.type === "secret";
  const formError = save.error && !issuesAllShown(save.error, FIELDS) ? errorMessage(save.error) : null;

  return (
    <Form {...form}>
      <form
        className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_minmax(0,1.5fr)_8rem_auto] sm:items-start"
        onSubmit={form.handleSubmit((values) => save.mutate(values))}
        noValidate
        aria-label={existing ? `Change ${existing.key}` : "Add an env var"}
        data-testid={existing ? "env-edit-form" : "env-create-form"}
      >
        {existing ? (
          // The key of an existing variable is fixed: shown, not offered as an input.
          <div className="grid gap-2">
            <span className="text-sm font-medium">Key</span>
            <code className="flex h-9 items-center font-mono text-sm break-all" data-testid="env-key">
              {existing.key}
            </code>
          </div>
        ) : (
          <FormField
            control={form.control}
            name="key"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Key</FormLabel>
                <FormControl>
                  <Input
                    {...field}
                    className="font-mono"
                    placeholder="GITHUB_TOKEN"
                    autoComplete="off"
                    spellCheck={false}
                    data-testid="env-key"
                  />
                </FormControl>
                <FormMessage data-testid="env-key-error" />
              </FormItem>
            )}
          />
        )}
        <FormField
          control={form.control}
          name="value"
          render={({ field }) => (
            <FormItem>
              <FormLabel>{replacingSecret ? "New value" : "Value"}</FormLabel>
              <FormControl>
                <Input
                  {...field}
                  // A secret is typed blind, and the browser must not offer to save it as a password.
                  type={secret ? "password" : "text"}
                  autoComplete={secret ? "new-password" : "off"}
                  className="font-mono"
                  placeholder={replacingSecret ? "the current value stays hidden" : ""}
                  spellCheck={false}
                  data-testid="env-value"
                />
              </FormControl>
              <FormMessage data-testid="env-value-error" />
            </FormItem>
          )}
        />
        <FormField
          control={form.control}
          name="type"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Type</FormLabel>
              <Select value={field.value} onValueChange={field.onChange}>
                <FormControl>
                  <SelectTrigger data-testid="env-type">
                    <SelectValue />
                  </SelectTrigger>
                </FormControl>
                <SelectContent>
                  <SelectItem value="plain">Plain</SelectItem>
                  <SelectItem value="secret">Secret</SelectItem>
                </SelectContent>
              </Select>
            </FormItem>
          )}
        />
        <div className="flex gap-2 sm:mt-[1.375rem]">
          {onDone && existing ? (
            <Button type="button" variant="outline" onClick={onDone} disabled={save.isPending}>
              Cancel
            </Button>
          ) : null}
          <SubmitButton pending={save.isPending} testId="env-submit">
            {existing ? "Save" : "Add"}
          </SubmitButton>
        </div>
        {formError ? (
          <p className="text-sm text-destructive sm:col-span-4" role="alert" data-testid="env-form-error">
            {formError}
          </p>
        ) : null}
      </form>
    </Form>
  );
}

function EnvVarRow({ boxId, envVar }: { boxId: string; envVar: EnvVar }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(
    orpc.envVar.delete.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await queryClient.invalidateQueries({ queryKey: orpc.envVar.key() });
      },
    }),
  );
  const isSecret = envVar.type === "secret";

  return (
    <li className="py-3" data-testid="env-item" data-key={envVar.key} data-type={envVar.type}>
      {editing ? (
        <EnvVarForm boxId={boxId} existing={envVar} onDone={() => setEditing(false)} />
      ) : (
        <div className="grid gap-2 sm:grid-cols-[minmax(8rem,16rem)_minmax(0,1fr)_auto] sm:items-center">
          <span className="flex min-w-0 items-center gap-2">
            <code className="font-mono text-sm font-medium break-all" data-testid="env-item-key">
              {envVar.key}
            </code>
            <Badge variant={isSecret ? "warning" : "secondary"}>
              {isSecret ? <LockIcon aria-hidden /> : null}
              {isSecret ? "secret" : "plain"}
            </Badge>
          </span>
          <code
            className="min-w-0 font-mono text-sm break-all text-muted-foreground"
            data-testid="env-item-value"
          >
            {isSecret ? envVar.maskedValue : envVar.value}
          </code>
          <div className="flex items-center gap-2">
            <span className="mr-2 text-xs text-muted-foreground">
              <RelativeTime iso={envVar.updatedAt} />
            </span>
            <Button
              variant="outline"
              size="sm"
              onClick={() => setEditing(true)}
              aria-label={`Change ${envVar.key}`}
              data-testid="env-edit"
            >
              Change
            </Button>
            <Button
              variant="outline"
              size="sm"
              className="text-destructive hover:text-destructive"
              onClick={() => {
                remove.reset();
                setConfirming(true);
              }}
              aria-label={`Delete ${envVar.key}`}
              data-testid="env-delete"
            >
              Delete
            </Button>
          </div>
        </div>
      )}
      <ConfirmDialog
        open={confirming}
        title={`Delete ${envVar.key}?`}
        confirmLabel="Delete variable"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate({ boxId, key: envVar.key })}
        onCancel={() => setConfirming(false)}
      >
        <p>The box loses it at its next deploy.</p>
      </ConfirmDialog>
    </li>
  );
}

export function EnvVarsPanel({ boxId }: { boxId: string }) {
  const envVars = useQuery(orpc.envVar.list.queryOptions({ input: { boxId } }));

  return (
    <Card role="region" aria-labelledby="env-title" data-testid="env-vars">
      <CardHeader>
        <CardTitle id="env-title">Environment variables</CardTitle>
        <CardDescription>
          Set in the box's environment for Claude and its tools. Secrets are encrypted at rest and never shown
          again after saving. Changes reach the box at its next deploy: use Redeploy above to apply them now.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <EnvVarForm boxId={boxId} />
        <h3 className="text-sm font-medium">Variables</h3>
        {envVars.isPending ? (
          <LoadingState label="Loading env vars…" testId="env-loading" />
        ) : envVars.isError ? (
          <ErrorState
            title="Could not load env vars"
            error={envVars.error}
            onRetry={envVars.refetch}
            testId="env-error"
          />
        ) : envVars.data.length === 0 ? (
          <EmptyState title="No env vars yet" testId="env-empty">
            Add API tokens or settings the agent's tools need.
          </EmptyState>
        ) : (
          <ul className="divide-y" data-testid="env-list">
            {envVars.data.map((envVar) => (
              <EnvVarRow key={envVar.key} boxId={boxId} envVar={envVar} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
