"use client";

import { AlertCircleIcon, WrenchIcon } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { type RunEvent, transcriptEvents } from "@/lib/runs";
import { cn } from "@/lib/utils";

type ToolUseEvent = Extract<RunEvent, { type: "tool_use" }>;
type ToolResultEvent = Extract<RunEvent, { type: "tool_result" }>;

/** A tool result longer than this is shown cut, with a button for the rest (the box already bounds it). */
const RESULT_PREVIEW_CHARS = 1_500;

/** One line of the transcript: Claude's words, a tool call with its result (once it came), or an error. */
type TranscriptItem =
  | { kind: "text"; seq: number; text: string }
  | { kind: "tool"; seq: number; use: ToolUseEvent; result: ToolResultEvent | undefined }
  | { kind: "error"; seq: number; message: string };

/** Pairs each tool result with its call, so a call reads as one item that fills in when the tool answers. */
function transcriptItems(events: readonly RunEvent[]): TranscriptItem[] {
  const results = new Map<string, ToolResultEvent>();
  for (const event of events) {
    if (event.type === "tool_result") {
      results.set(event.toolUseId, event);
    }
  }
  const items: TranscriptItem[] = [];
  for (const event of transcriptEvents(events)) {
    if (event.type === "text") {
      items.push({ kind: "text", seq: event.seq, text: event.text });
    } else if (event.type === "tool_use") {
      items.push({ kind: "tool", seq: event.seq, use: event, result: results.get(event.toolUseId) });
    } else if (event.type === "error") {
      items.push({ kind: "error", seq: event.seq, message: event.message });
    }
  }
  return items;
}

function ToolResult({ result }: { result: ToolResultEvent }) {
  const [whole, setWhole] = useState(false);
  const long = result.content.length > RESULT_PREVIEW_CHARS;
  const shown = whole || !long ? result.content : `${result.content.slice(0, RESULT_PREVIEW_CHARS)}…`;
  return (
    <div className="grid gap-1" data-testid="transcript-tool-result" data-error={result.isError}>
      <p className={cn("text-xs font-medium", result.isError ? "text-destructive" : "text-muted-foreground")}>
        {result.isError ? "The tool failed:" : "Result:"}
      </p>
      <pre className="max-h-72 overflow-auto rounded-md bg-muted p-2 text-xs whitespace-pre-wrap break-words">
        {shown || "(empty)"}
      </pre>
      {long ? (
        <Button
          variant="link"
          size="sm"
          className="h-auto justify-start p-0"
          onClick={() => setWhole(!whole)}
        >
          {whole ? "Show less" : `Show all ${result.content.length.toLocaleString("en")} characters`}
        </Button>
      ) : null}
      {result.truncated ? (
        <p className="text-xs text-muted-foreground">The box kept only the start of a longer result.</p>
      ) : null}
    </div>
  );
}

function ToolCall({
  use,
  result,
  compact,
}: {
  use: ToolUseEvent;
  result: ToolResultEvent | undefined;
  compact: boolean;
}) {
  const state = result === undefined ? "working…" : result.isError ? "failed" : "done";
  return (
    <details
      className="rounded-md border bg-card text-sm"
      open={!compact}
      data-testid="transcript-tool"
      data-tool={use.name}
    >
      <summary className="flex cursor-pointer items-center gap-2 px-3 py-1.5">
        <WrenchIcon className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
        <span className="min-w-0 font-mono text-xs break-all" data-testid="transcript-tool-name">
          {use.name}
        </span>
        <span className={cn("text-xs", state === "failed" ? "text-destructive" : "text-muted-foreground")}>
          {state}
        </span>
      </summary>
      <div className="grid gap-2 border-t px-3 py-2">
        <div className="grid gap-1">
          <p className="text-xs font-medium text-muted-foreground">Input:</p>
          <pre
            className="max-h-72 overflow-auto rounded-md bg-muted p-2 text-xs whitespace-pre-wrap break-words"
            data-testid="transcript-tool-input"
          >
            {JSON.stringify(use.input, null, 2)}
          </pre>
        </div>
        {result ? <ToolResult result={result} /> : null}
      </div>
    </details>
  );
}

/**
 * What Claude said and did in a run, in order. `compact` (the chat) folds tool calls to one line each;
 * the run page shows their input and result.
 */
export function Transcript({ events, compact = false }: { events: readonly RunEvent[]; compact?: boolean }) {
  const items = transcriptItems(events);
  if (items.length === 0) {
    return null;
  }
  return (
    <ol className="grid min-w-0 gap-2" data-testid="run-transcript">
      {items.map((item) => (
        <li
          key={item.seq}
          className="min-w-0"
          data-testid="transcript-event"
          data-type={item.kind}
          data-seq={item.seq}
        >
          {item.kind === "text" ? (
            <p className="text-sm whitespace-pre-wrap break-words" data-testid="transcript-text">
              {item.text}
            </p>
          ) : item.kind === "tool" ? (
            <ToolCall use={item.use} result={item.result} compact={compact} />
          ) : (
            <p className="flex gap-2 text-sm text-destructive" data-testid="transcript-error">
              <AlertCircleIcon className="mt-0.5 size-4 shrink-0" aria-hidden />
              <span className="whitespace-pre-wrap break-words">{item.message}</span>
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
