"use client";

import { type FormEvent, useCallback, useId, useState } from "react";
import { errorMessage, fieldIssue } from "@/lib/api-error";
import {
  type AgentConfig,
  type AgentConfigPatch,
  agentConfigApi,
  TRIGGER_TYPES,
  type TriggerType,
} from "@/lib/box-api";
import { Field, FieldError } from "../field";
import { SubmitButton } from "../form-buttons";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";

const TRIGGER_TITLES: Record<TriggerType, { title: string; description: string }> = {
  session: { title: "Chat", description: "When you talk to the box from the Chat tab." },
  email: { title: "Email", description: "When an email arrives at the box's address." },
  cron: { title: "Cronjobs", description: "When one of the box's cronjobs fires." },
};

const MCP_EXAMPLE = `{
  "docs": { "type": "http", "url": "https://example.com/mcp" },
  "files": { "type": "stdio", "command": "npx", "args": ["-y", "some-mcp-server"] }
}`;

type McpParse = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the shape the server expects before sending, so typos are caught as they are typed. */
export function parseMcpServers(text: string): McpParse {
  if (text.trim() === "") {
    return { ok: true, value: {} };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!isRecord(parsed)) {
    return {
      ok: false,
      message: 'Expected a JSON object of servers by name, like { "docs": { "type": "http", … } }.',
    };
  }
  for (const [name, server] of Object.entries(parsed)) {
    if (!isRecord(server)) {
      return { ok: false, message: `"${name}" must be an object with a "type".` };
    }
    if (server.type === "stdio") {
      if (typeof server.command !== "string" || server.command === "") {
        return { ok: false, message: `"${name}" is a stdio server and needs a "command".` };
      }
    } else if (server.type === "http" || server.type === "sse") {
      if (typeof server.url !== "string" || server.url === "") {
        return { ok: false, message: `"${name}" is an ${server.type} server and needs a "url".` };
      }
    } else {
      return { ok: false, message: `"${name}" needs "type": "stdio", "http" or "sse".` };
    }
  }
  return { ok: true, value: parsed };
}

function formatMcp(servers: Record<string, unknown>): string {
  return Object.keys(servers).length === 0 ? "" : JSON.stringify(servers, null, 2);
}

function AgentConfigCard({
  boxId,
  config,
  onSaved,
}: {
  boxId: string;
  config: AgentConfig;
  onSaved: (config: AgentConfig) => void;
}) {
  const handleAuth = useAuthRedirect();
  const [model, setModel] = useState(config.model);
  const [prompt, setPrompt] = useState(config.systemPrompt);
  const [mcpText, setMcpText] = useState(() => formatMcp(config.mcpServers));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const baseId = useId();
  const id = (field: string) => `${baseId}-${field}`;
  const { title, description } = TRIGGER_TITLES[config.triggerType];

  const mcp = parseMcpServers(mcpText);
  const promptChanged = prompt !== config.systemPrompt;
  const mcpChanged = mcp.ok && JSON.stringify(mcp.value) !== JSON.stringify(config.mcpServers);
  const modelChanged = model.trim() !== config.model;
  const dirty = promptChanged || mcpChanged || modelChanged;

  async function submit(patch: AgentConfigPatch, message: string) {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      const updated = await agentConfigApi.update(boxId, patch);
      setModel(updated.model);
      setPrompt(updated.systemPrompt);
      setMcpText(formatMcp(updated.mcpServers));
      onSaved(updated);
      setSaved(message);
    } catch (caught) {
      if (!handleAuth(caught)) {
        setError(caught);
      }
    } finally {
      setSaving(false);
    }
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!mcp.ok) {
      return;
    }
    // Only what changed: sending the default prompt back would pin it as a custom one.
    const patch: AgentConfigPatch = { triggerType: config.triggerType };
    if (modelChanged) {
      patch.model = model.trim();
    }
    if (promptChanged) {
      patch.systemPrompt = prompt;
    }
    if (mcpChanged) {
      patch.mcpServers = mcp.value;
    }
    void submit(patch, "Saved. The next run uses it.");
  }

  const modelIssue = fieldIssue(error, "model");
  const promptIssue = fieldIssue(error, "systemPrompt");
  const mcpIssue = fieldIssue(error, "mcpServers");
  const otherError = error && !modelIssue && !promptIssue && !mcpIssue ? errorMessage(error) : null;
  const mcpMessage = mcp.ok ? mcpIssue : mcp.message;

  return (
    <section
      className="card"
      aria-labelledby={id("title")}
      data-testid={`agent-config-${config.triggerType}`}
    >
      <div className="card-heading">
        <div>
          <h3 id={id("title")} className="card-title">
            {title}
          </h3>
          <p className="muted small">{description}</p>
        </div>
        <span className="muted small">
          {config.updatedAt ? (
            <>
              changed <RelativeTime iso={config.updatedAt} />
            </>
          ) : (
            "defaults"
          )}
        </span>
      </div>
      <form onSubmit={save} noValidate aria-label={`Agent config for ${title}`}>
        <Field label="Model" htmlFor={id("model")} error={modelIssue} errorId={id("model-error")}>
          <input
            id={id("model")}
            type="text"
            className="mono"
            value={model}
            onChange={(event) => setModel(event.target.value)}
            list={id("models")}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={modelIssue ? true : undefined}
            aria-describedby={modelIssue ? id("model-error") : undefined}
            data-testid="agent-model"
          />
          <datalist id={id("models")}>
            <option value="claude-sonnet-4-5" />
            <option value="claude-opus-4-1" />
            <option value="claude-haiku-4-5" />
          </datalist>
        </Field>
        <div className="field">
          <div className="label-row">
            <label htmlFor={id("prompt")}>System prompt</label>
            {config.isDefaultPrompt && !promptChanged ? (
              <span className="badge badge-plain" data-testid="agent-default-prompt">
                default
              </span>
            ) : null}
          </div>
          <textarea
            id={id("prompt")}
            rows={6}
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
            aria-invalid={promptIssue ? true : undefined}
            aria-describedby={promptIssue ? id("prompt-error") : undefined}
            data-testid="agent-prompt"
          />
          <FieldError message={promptIssue} id={id("prompt-error")} />
        </div>
        <Field
          label="MCP servers (JSON)"
          htmlFor={id("mcp")}
          error={mcpMessage}
          errorId={id("mcp-error")}
          errorTestId="agent-mcp-error"
        >
          <textarea
            id={id("mcp")}
            className="mono"
            rows={Math.min(14, Math.max(4, mcpText.split("\n").length + 1))}
            value={mcpText}
            onChange={(event) => setMcpText(event.target.value)}
            placeholder="No extra MCP servers"
            spellCheck={false}
            aria-invalid={mcpMessage ? true : undefined}
            aria-describedby={`${id("mcp-hint")}${mcpMessage ? ` ${id("mcp-error")}` : ""}`}
            data-testid="agent-mcp"
          />
          <p id={id("mcp-hint")} className="muted small">
            Extra tools besides the built-in ones, as a JSON object of servers by name. Leave empty for none.
          </p>
          <details className="hint-details">
            <summary className="muted small">Example</summary>
            <pre>{MCP_EXAMPLE}</pre>
          </details>
        </Field>
        {otherError ? (
          <p className="form-error" role="alert">
            {otherError}
          </p>
        ) : null}
        <div className="form-actions">
          {saved ? (
            <span className="muted small" role="status">
              {saved}
            </span>
          ) : null}
          {!config.isDefaultPrompt ? (
            <button
              type="button"
              className="button"
              disabled={saving}
              onClick={() =>
                void submit(
                  { triggerType: config.triggerType, systemPrompt: null },
                  "The default prompt is back.",
                )
              }
              data-testid="agent-reset-prompt"
            >
              Reset prompt to default
            </button>
          ) : null}
          <SubmitButton busy={saving} disabled={!mcp.ok || !dirty} testId="agent-save">
            Save
          </SubmitButton>
        </div>
      </form>
    </section>
  );
}

export function AgentConfigPanel({ boxId }: { boxId: string }) {
  const load = useCallback(() => agentConfigApi.list(boxId), [boxId]);
  const configs = useResource(load);
  const { setData } = configs;
  const onSaved = useCallback(
    (updated: AgentConfig) =>
      setData((current) =>
        (current ?? []).map((config) => (config.triggerType === updated.triggerType ? updated : config)),
      ),
    [setData],
  );

  if (configs.loading) {
    return <LoadingState label="Loading agent config…" testId="agent-config-loading" />;
  }
  if (!configs.data) {
    return (
      <ErrorState
        title="Could not load the agent config"
        error={configs.error}
        onRetry={configs.reload}
        testId="agent-config-error"
      />
    );
  }
  const ordered = TRIGGER_TYPES.map((type) =>
    configs.data?.find((config) => config.triggerType === type),
  ).filter((config): config is AgentConfig => config !== undefined);
  if (ordered.length === 0) {
    return <EmptyState title="No agent config" testId="agent-config-empty" />;
  }
  return (
    <div className="stack" data-testid="agent-config">
      <p className="muted">
        How Claude runs for each kind of trigger: its model, its instructions and extra MCP tools. Changes
        apply to the next run; no redeploy needed.
      </p>
      {ordered.map((config) => (
        <AgentConfigCard key={config.triggerType} boxId={boxId} config={config} onSaved={onSaved} />
      ))}
    </div>
  );
}
