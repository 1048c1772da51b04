"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  mcpServersSchema,
  runMaxBudgetUsdSchema,
  runMaxTurnsSchema,
  updateAgentConfigInput,
} from "@vps-claude/contract";
import { useId, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
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
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, issuesAllShown } from "@/lib/api-error";
import { type AgentConfig, TRIGGER_TYPES, type TriggerType } from "@/lib/box-api";
import { showServerIssues } from "@/lib/form-errors";
import { orpc } from "@/lib/orpc";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { SubmitButton } from "./submit-button";

const TRIGGER_TITLES: Record<TriggerType, { title: string; description: string }> = {
  session: { title: "Chat", description: "When you talk to the box from the Chat tab." },
  email: { title: "Email", description: "When an email arrives at the box's address." },
  cron: { title: "Cronjobs", description: "When one of the box's cronjobs fires." },
};

const MCP_EXAMPLE = `{
  "docs": { "type": "http", "url": "https://example.com/mcp" },
  "files": { "type": "stdio", "command": "npx", "args": ["-y", "some-mcp-server"] }
}`;

const MODEL_SUGGESTIONS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"];

/** An empty box is "no limit" (null); anything else must read as a number before the contract's bounds apply. */
const optionalNumber = z
  .string()
  .trim()
  .transform((text, ctx) => {
    if (text === "") {
      return null;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      ctx.addIssue({ code: "custom", message: `'${text}' is not a number: leave it empty for no limit` });
      return z.NEVER;
    }
    return value;
  });

/** The servers as typed JSON, checked against the contract's schema; its issues name the server and field. */
const mcpServersText = z.string().transform((text, ctx) => {
  if (text.trim() === "") {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    });
    return z.NEVER;
  }
  const checked = mcpServersSchema.safeParse(parsed);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const where = issue.path.map(String).join(".");
      ctx.addIssue({ code: "custom", message: where ? `${where}: ${issue.message}` : issue.message });
    }
    return z.NEVER;
  }
  return checked.data;
});

const agentConfigForm = z.object({
  model: updateAgentConfigInput.shape.model.unwrap(),
  systemPrompt: updateAgentConfigInput.shape.systemPrompt.unwrap().unwrap(),
  mcpServers: mcpServersText,
  maxBudgetUsd: optionalNumber.pipe(runMaxBudgetUsdSchema.nullable()),
  maxTurns: optionalNumber.pipe(runMaxTurnsSchema.nullable()),
});
type AgentConfigValues = z.input<typeof agentConfigForm>;
type AgentConfigOutput = z.output<typeof agentConfigForm>;
const FIELDS = ["model", "systemPrompt", "mcpServers", "maxBudgetUsd", "maxTurns"] as const;

function valuesOf(config: AgentConfig): AgentConfigValues {
  return {
    model: config.model,
    systemPrompt: config.systemPrompt,
    mcpServers: Object.keys(config.mcpServers).length === 0 ? "" : JSON.stringify(config.mcpServers, null, 2),
    maxBudgetUsd: config.maxBudgetUsd === null ? "" : String(config.maxBudgetUsd),
    maxTurns: config.maxTurns === null ? "" : String(config.maxTurns),
  };
}

function AgentConfigCard({ boxId, config }: { boxId: string; config: AgentConfig }) {
  const queryClient = useQueryClient();
  const titleId = useId();
  const modelsId = useId();
  const [saved, setSaved] = useState<string | null>(null);
  const form = useForm<AgentConfigValues, unknown, AgentConfigOutput>({
    resolver: zodResolver(agentConfigForm),
    // Follows the server's copy, but never over what the owner is typing.
    values: valuesOf(config),
    resetOptions: { keepDirtyValues: true },
  });
  const save = useMutation(
    orpc.agentConfig.update.mutationOptions({
      onSuccess: async (updated, input) => {
        form.reset(valuesOf(updated));
        setSaved(
          input.systemPrompt === null ? "The default prompt is back." : "Saved. The next run uses it.",
        );
        await queryClient.invalidateQueries({ queryKey: orpc.agentConfig.key() });
      },
      onError: (error) => showServerIssues(error, form.setError, FIELDS),
    }),
  );
  const { title, description } = TRIGGER_TITLES[config.triggerType];
  const { dirtyFields, isDirty } = form.formState;
  const promptEdited = Boolean(dirtyFields.systemPrompt);
  const formError = save.error && !issuesAllShown(save.error, FIELDS) ? errorMessage(save.error) : null;

  function submit(values: AgentConfigOutput) {
    setSaved(null);
    // Only what changed: sending the default prompt back would pin it as a custom one.
    const changed = FIELDS.filter((field) => dirtyFields[field]);
    const patch = Object.fromEntries(changed.map((field) => [field, values[field]]));
    save.mutate({ boxId, triggerType: config.triggerType, ...patch });
  }

  return (
    <Card role="region" aria-labelledby={titleId} data-testid={`agent-config-${config.triggerType}`}>
      <CardHeader>
        <CardTitle id={titleId}>{title}</CardTitle>
        <CardDescription>{description}</CardDescription>
        <CardAction className="text-xs text-muted-foreground">
          {config.updatedAt ? (
            <>
              changed <RelativeTime iso={config.updatedAt} />
            </>
          ) : (
            "defaults"
          )}
        </CardAction>
      </CardHeader>
      <CardContent>
        <Form {...form}>
          <form
            className="grid gap-4"
            onSubmit={form.handleSubmit(submit)}
            noValidate
            aria-label={`Agent config for ${title}`}
          >
            <FormField
              control={form.control}
              name="model"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>Model</FormLabel>
                  <FormControl>
                    <Input
                      {...field}
                      className="font-mono"
                      list={modelsId}
                      autoComplete="off"
                      spellCheck={false}
                      data-testid="agent-model"
                    />
                  </FormControl>
                  <datalist id={modelsId}>
                    {MODEL_SUGGESTIONS.map((model) => (
                      <option key={model} value={model} />
                    ))}
                  </datalist>
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormField
              control={form.control}
              name="systemPrompt"
              render={({ field }) => (
                <FormItem>
                  <div className="flex items-center gap-2">
                    <FormLabel>System prompt</FormLabel>
                    {config.isDefaultPrompt && !promptEdited ? (
                      <Badge variant="secondary" data-testid="agent-default-prompt">
                        default
                      </Badge>
                    ) : null}
                  </div>
                  <FormControl>
                    <Textarea {...field} rows={6} className="max-h-96" data-testid="agent-prompt" />
                  </FormControl>
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormField
              control={form.control}
              name="mcpServers"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>MCP servers (JSON)</FormLabel>
                  <FormControl>
                    <Textarea
                      {...field}
                      className="max-h-96 font-mono"
                      placeholder="No extra MCP servers"
                      spellCheck={false}
                      data-testid="agent-mcp"
                    />
                  </FormControl>
                  <FormDescription>
                    Extra tools besides the built-in ones, as a JSON object of servers by name. Leave empty
                    for none.
                  </FormDescription>
                  <details className="text-sm">
                    <summary className="cursor-pointer text-muted-foreground">Example</summary>
                    <pre className="mt-1 overflow-x-auto rounded-md bg-muted p-2 font-mono text-xs">
                      {MCP_EXAMPLE}
                    </pre>
                  </details>
                  <FormMessage data-testid="agent-mcp-error" />
                </FormItem>
              )}
            />
            <div className="grid gap-4 sm:grid-cols-2">
              <FormField
                control={form.control}
                name="maxBudgetUsd"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Max cost per run (USD)</FormLabel>
                    <FormControl>
                      <Input
                        {...field}
                        inputMode="decimal"
                        autoComplete="off"
                        placeholder="No limit"
                        data-testid="agent-max-budget"
                      />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
              <FormField
                control={form.control}
                name="maxTurns"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Max turns per run</FormLabel>
                    <FormControl>
                      <Input
                        {...field}
                        inputMode="numeric"
                        autoComplete="off"
                        placeholder="No limit"
                        data-testid="agent-max-turns"
                      />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
            </div>
            {formError ? (
              <p className="text-sm text-destructive" role="alert">
                {formError}
              </p>
            ) : null}
            <div className="flex flex-wrap items-center justify-end gap-2">
              <span className="text-sm text-muted-foreground" role="status" data-testid="agent-saved">
                {saved}
              </span>
              {config.isDefaultPrompt ? null : (
                <Button
                  type="button"
                  variant="outline"
                  disabled={save.isPending}
                  onClick={() => {
                    setSaved(null);
                    save.mutate({ boxId, triggerType: config.triggerType, systemPrompt: null });
                  }}
                  data-testid="agent-reset-prompt"
                >
                  Reset prompt to default
                </Button>
              )}
              <SubmitButton pending={save.isPending} disabled={!isDirty} testId="agent-save">
                Save
              </SubmitButton>
            </div>
          </form>
        </Form>
      </CardContent>
    </Card>
  );
}

export function AgentConfigPanel({ boxId }: { boxId: string }) {
  const configs = useQuery(orpc.agentConfig.get.queryOptions({ input: { boxId } }));

  if (configs.isPending) {
    return <LoadingState label="Loading agent config…" testId="agent-config-loading" />;
  }
  if (configs.isError) {
    return (
      <ErrorState
        title="Could not load the agent config"
        error={configs.error}
        onRetry={configs.refetch}
        testId="agent-config-error"
      />
    );
  }
  const ordered = TRIGGER_TYPES.map((type) =>
    configs.data.find((config) => config.triggerType === type),
  ).filter((config): config is AgentConfig => config !== undefined);
  if (ordered.length === 0) {
    return <EmptyState title="No agent config" testId="agent-config-empty" />;
  }
  return (
    <div className="grid gap-6" data-testid="agent-config">
      <p className="text-muted-foreground">
        How Claude runs for each kind of trigger: its model, its instructions, extra MCP tools and per-run
        limits. Changes apply to the next run; no redeploy needed.
      </p>
      {ordered.map((config) => (
        <AgentConfigCard key={config.triggerType} boxId={boxId} config={config} />
      ))}
    </div>
  );
}
