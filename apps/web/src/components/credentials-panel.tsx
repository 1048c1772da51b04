"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { credentialKey, type JsonOf, secretValue, type UserOutputs } from "@vps-claude/contract";
import { LockIcon } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Input } from "@/components/ui/input";
import { errorMessage } from "@/lib/api-error";
import { showServerIssues } from "@/lib/form-errors";
import { orpc } from "@/lib/orpc";
import { ConfirmDialog } from "./confirm-dialog";
import { EmptyState, ErrorState, LoadingState } from "./panel-states";
import { RelativeTime } from "./relative-time";

type Credential = JsonOf<UserOutputs["credential"]["list"]>[number];

const SUGGESTED_KEYS = [
  "ANTHROPIC_API_KEY",
  "GITHUB_TOKEN",
  "OPENAI_API_KEY",
  "FAL_KEY",
  "REPLICATE_API_TOKEN",
  "ELEVENLABS_API_KEY",
];

/** The contract's rules for `credential.create` and `credential.update`. */
const createCredentialForm = z.object({ key: credentialKey, value: secretValue });
const replaceCredentialForm = z.object({ value: secretValue });

function useCredentials() {
  return useQuery(orpc.credential.list.queryOptions());
}

/** After any change the list is read again: it alone knows the new masked value and order. */
function useInvalidateCredentials() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: orpc.credential.key() });
}

function CredentialForm() {
  const invalidate = useInvalidateCredentials();
  const form = useForm({
    resolver: zodResolver(createCredentialForm),
    defaultValues: { key: "", value: "" },
  });
  const create = useMutation(
    orpc.credential.create.mutationOptions({
      onSuccess: async () => {
        form.reset();
        await invalidate();
      },
      onError: (error) => showServerIssues(error, form.setError, ["key", "value"]),
    }),
  );
  const { errors } = form.formState;
  const submitError = create.error && !errors.key && !errors.value ? errorMessage(create.error) : null;

  return (
    <Form {...form}>
      <form
        className="grid gap-3"
        onSubmit={form.handleSubmit((input) => create.mutate({ ...input, key: input.key.trim() }))}
        noValidate
        aria-label="Add a credential"
        data-testid="credential-form"
      >
        <div className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-start">
          <FormField
            control={form.control}
            name="key"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Name</FormLabel>
                <FormControl>
                  <Input
                    {...field}
                    className="font-mono"
                    list="credential-key-suggestions"
                    placeholder="ANTHROPIC_API_KEY"
                    autoComplete="off"
                    spellCheck={false}
                    data-testid="credential-key"
                  />
                </FormControl>
                <datalist id="credential-key-suggestions">
                  {SUGGESTED_KEYS.map((suggestion) => (
                    <option key={suggestion} value={suggestion} />
                  ))}
                </datalist>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormField
            control={form.control}
            name="value"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Value</FormLabel>
                <FormControl>
                  <Input
                    {...field}
                    type="password"
                    autoComplete="new-password"
                    className="font-mono"
                    spellCheck={false}
                    data-testid="credential-value"
                  />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <Button
            type="submit"
            className="sm:mt-[1.375rem]"
            disabled={create.isPending}
            data-testid="credential-submit"
          >
            {create.isPending ? "Adding…" : "Add credential"}
          </Button>
        </div>
        {submitError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="credential-error">
            {submitError}
          </p>
        ) : null}
      </form>
    </Form>
  );
}

function ReplaceForm({ credential, onDone }: { credential: Credential; onDone: () => void }) {
  const invalidate = useInvalidateCredentials();
  const form = useForm({ resolver: zodResolver(replaceCredentialForm), defaultValues: { value: "" } });
  const replace = useMutation(
    orpc.credential.update.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        onDone();
      },
      onError: (error) => {
        if (!showServerIssues(error, form.setError, ["value"])) {
          form.setError("value", { type: "server", message: errorMessage(error) });
        }
      },
    }),
  );

  return (
    <Form {...form}>
      <form
        className="grid gap-2 border-t pt-3"
        onSubmit={form.handleSubmit(({ value }) => replace.mutate({ key: credential.key, value }))}
        noValidate
        aria-label={`Replace ${credential.key}`}
      >
        <FormField
          control={form.control}
          name="value"
          render={({ field }) => (
            <FormItem>
              <FormLabel>New value for {credential.key}</FormLabel>
              <div className="flex gap-2">
                <FormControl>
                  <Input
                    {...field}
                    type="password"
                    autoComplete="new-password"
                    className="font-mono"
                    spellCheck={false}
                    autoFocus
                    data-testid="credential-replace-value"
                  />
                </FormControl>
                <Button type="submit" disabled={replace.isPending} data-testid="credential-replace-save">
                  {replace.isPending ? "Saving…" : "Save"}
                </Button>
              </div>
              <FormMessage role="alert" data-testid="credential-replace-error" />
            </FormItem>
          )}
        />
      </form>
    </Form>
  );
}

function DeleteCredential({ credential }: { credential: Credential }) {
  const invalidate = useInvalidateCredentials();
  const [open, setOpen] = useState(false);
  const remove = useMutation(
    orpc.credential.delete.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await invalidate();
      },
    }),
  );
  return (
    <>
      <Button
        variant="outline"
        size="sm"
        className="border-destructive/40 text-destructive hover:bg-destructive/10 hover:text-destructive"
        onClick={() => {
          remove.reset();
          setOpen(true);
        }}
        aria-label={`Delete ${credential.key}`}
        data-testid="credential-delete"
      >
        Delete
      </Button>
      <ConfirmDialog
        open={open}
        title={`Delete ${credential.key}?`}
        confirmLabel="Delete credential"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate({ key: credential.key })}
        onCancel={() => setOpen(false)}
      >
        <p>
          {credential.key === "ANTHROPIC_API_KEY"
            ? "Your boxes switch to the platform's key within seconds."
            : "Your boxes lose it at their next deploy."}
        </p>
      </ConfirmDialog>
    </>
  );
}

function CredentialRow({ credential }: { credential: Credential }) {
  const [replacing, setReplacing] = useState(false);
  return (
    <li className="grid gap-3 rounded-lg border p-3" data-testid="credential-item" data-key={credential.key}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <div className="flex min-w-0 flex-wrap items-center gap-2">
          <code className="font-mono text-sm font-medium break-all" data-testid="credential-item-key">
            {credential.key}
          </code>
          <Badge variant="secondary">
            <LockIcon aria-hidden /> secret
          </Badge>
        </div>
        <code className="font-mono text-sm text-muted-foreground" data-testid="credential-item-value">
          {credential.maskedValue}
        </code>
        <span className="text-xs text-muted-foreground">
          changed <RelativeTime iso={credential.updatedAt} />
        </span>
        <div className="flex gap-2 sm:ml-auto">
          <Button
            variant="outline"
            size="sm"
            onClick={() => setReplacing((open) => !open)}
            aria-expanded={replacing}
            aria-label={replacing ? `Cancel replacing ${credential.key}` : `Replace ${credential.key}`}
            data-testid="credential-replace"
          >
            {replacing ? "Cancel" : "Replace"}
          </Button>
          <DeleteCredential credential={credential} />
        </div>
      </div>
      {replacing ? <ReplaceForm credential={credential} onDone={() => setReplacing(false)} /> : null}
    </li>
  );
}

function CredentialList() {
  const credentials = useCredentials();
  if (credentials.isPending) {
    return <LoadingState label="Loading credentials…" testId="credentials-loading" />;
  }
  if (credentials.isError) {
    return (
      <ErrorState
        title="Could not load your credentials"
        error={credentials.error}
        onRetry={() => credentials.refetch()}
        testId="credentials-error"
      />
    );
  }
  if (credentials.data.length === 0) {
    return (
      <EmptyState title="No credentials yet" testId="credentials-empty">
        Add <code className="font-mono">ANTHROPIC_API_KEY</code> so your boxes run on your own Anthropic
        account.
      </EmptyState>
    );
  }
  return (
    <ul className="grid gap-2" data-testid="credential-list">
      {credentials.data.map((credential) => (
        <CredentialRow key={credential.key} credential={credential} />
      ))}
    </ul>
  );
}

export function CredentialsPanel() {
  const credentials = useCredentials();
  const hasAnthropicKey = credentials.data?.some((credential) => credential.key === "ANTHROPIC_API_KEY");

  return (
    <Card aria-labelledby="credentials-title" data-testid="credentials">
      <CardHeader>
        <CardTitle id="credentials-title">Credentials</CardTitle>
        <CardDescription className="grid gap-2">
          <span>
            Credentials are encrypted at rest and never shown again after saving. Each one reaches every box
            you own as an environment variable (a box's own env var of the same name wins).
          </span>
          <span>
            <strong className="font-mono text-foreground">ANTHROPIC_API_KEY</strong> is special: it never
            enters a box. Claude in your boxes reaches the model through the platform, which adds your key
            instead of the platform's{hasAnthropicKey ? " — yours is set" : ""}; a change applies within
            seconds, without a redeploy. Other credentials are applied at each box's next deploy.
          </span>
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-6">
        <CredentialForm />
        <section className="grid gap-3" aria-labelledby="saved-credentials-title">
          <h3 id="saved-credentials-title" className="text-sm font-medium">
            Saved credentials
          </h3>
          <CredentialList />
        </section>
      </CardContent>
    </Card>
  );
}
