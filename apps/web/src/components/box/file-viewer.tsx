"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { writeFileInput } from "@vps-claude/contract";
import { useEffect, useId, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage } from "@/lib/api-error";
import type { FileContent } from "@/lib/box-api";
import { base64ToBlob, displayPath, explainFilesError, splitPath } from "@/lib/box-files";
import { formatBytes } from "@/lib/format";
import { api, orpc } from "@/lib/orpc";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { SubmitButton } from "./submit-button";

const editForm = z.object({ content: writeFileInput.shape.content });
type EditValues = z.infer<typeof editForm>;

/** A textarea hands back "\n" line ends; a file written with "\r\n" throughout keeps them. */
function withOriginalLineEnds(original: string, edited: string): string {
  const crlfOnly = original.includes("\r\n") && !/(^|[^\r])\n/.test(original);
  return crlfOnly ? edited.replace(/\r?\n/g, "\r\n") : edited;
}

function BinaryDownload({ content, name }: { content: string; name: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const objectUrl = URL.createObjectURL(base64ToBlob(content));
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [content]);

  return (
    <EmptyState title="Not a text file, so it is not shown here." testId="file-binary">
      {url ? (
        <Button asChild variant="outline" size="sm" className="mt-2">
          <a href={url} download={name} className="text-foreground" data-testid="file-download">
            Download {name}
          </a>
        </Button>
      ) : null}
    </EmptyState>
  );
}

interface FileEditorProps {
  boxId: string;
  file: FileContent;
  name: string;
  onDone: (saved: boolean) => void;
}

function FileEditor({ boxId, file, name, onDone }: FileEditorProps) {
  const queryClient = useQueryClient();
  const form = useForm<EditValues>({
    resolver: zodResolver(editForm),
    defaultValues: { content: file.content },
  });
  const save = useMutation({
    mutationFn: ({ content }: EditValues) =>
      api.files.write({
        boxId,
        path: file.path,
        content: withOriginalLineEnds(file.content, content),
        encoding: "utf8",
      }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: orpc.files.key() });
      onDone(true);
    },
  });
  const lines = form.watch("content").split("\n").length;

  return (
    <Form {...form}>
      <form
        className="grid gap-3"
        onSubmit={form.handleSubmit((values) => save.mutate(values))}
        noValidate
        aria-label={`Edit ${name}`}
        data-testid="file-edit-form"
      >
        <FormField
          control={form.control}
          name="content"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Content of {name}</FormLabel>
              <FormControl>
                <Textarea
                  {...field}
                  rows={Math.min(28, Math.max(8, lines + 1))}
                  className="field-sizing-fixed font-mono text-xs"
                  spellCheck={false}
                  data-testid="file-editor"
                />
              </FormControl>
              <FormMessage />
            </FormItem>
          )}
        />
        {save.error ? (
          <p className="text-sm text-destructive" role="alert" data-testid="file-save-error">
            {errorMessage(explainFilesError(save.error))}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => onDone(false)} disabled={save.isPending}>
            Cancel
          </Button>
          <SubmitButton pending={save.isPending} disabled={!form.formState.isDirty} testId="file-save">
            Save
          </SubmitButton>
        </div>
      </form>
    </Form>
  );
}

function FileBody({ file, name }: { file: FileContent; name: string }) {
  if (file.encoding === "base64") {
    return <BinaryDownload content={file.content} name={name} />;
  }
  if (file.size === 0) {
    return <EmptyState title="This file is empty." testId="file-empty" />;
  }
  return (
    <pre
      className="max-h-[36rem] overflow-auto rounded-md bg-muted p-3 font-mono text-xs whitespace-pre focus-visible:ring-[3px] focus-visible:ring-ring/50 focus-visible:outline-none"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a long file scrolls inside its box, and a keyboard must reach it to scroll (WCAG 2.1.1)
      tabIndex={0}
      data-testid="file-content"
    >
      {file.content}
    </pre>
  );
}

interface FileViewerProps {
  boxId: string;
  path: string;
  active: boolean;
  onClose: () => void;
}

/** One opened file: text shown and editable, anything else offered as a download. */
export function FileViewer({ boxId, path, active, onClose }: FileViewerProps) {
  const file = useQuery(orpc.files.read.queryOptions({ input: { boxId, path }, enabled: active }));
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const titleId = useId();
  const { name } = splitPath(path);
  const data = file.data;
  const shownPath = displayPath(data?.path ?? path);

  return (
    <section
      className="grid min-w-0 content-start gap-3 rounded-lg border p-3"
      aria-labelledby={titleId}
      aria-busy={file.isFetching || undefined}
      data-testid="file-viewer"
      data-path={path}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="grid min-w-0 gap-0.5">
          <h3 id={titleId} className="font-mono text-sm font-medium break-all" data-testid="file-path">
            {shownPath}
          </h3>
          {data ? (
            <span className="text-xs text-muted-foreground" data-testid="file-size">
              {formatBytes(data.size)}
              {data.encoding === "base64" ? " · binary" : ""}
            </span>
          ) : null}
        </div>
        {editing ? null : (
          <div className="flex gap-2">
            {data?.encoding === "utf8" ? (
              <Button
                variant="outline"
                size="sm"
                onClick={() => {
                  setSaved(false);
                  setEditing(true);
                }}
                aria-label={`Edit ${name}`}
                data-testid="file-edit"
              >
                Edit
              </Button>
            ) : null}
            <Button
              variant="outline"
              size="sm"
              onClick={() => void file.refetch()}
              aria-label={`Reload ${name}`}
              data-testid="file-reload"
            >
              Reload
            </Button>
            <Button
              variant="ghost"
              size="sm"
              onClick={onClose}
              aria-label={`Close ${name}`}
              data-testid="file-close"
            >
              Close
            </Button>
          </div>
        )}
      </div>
      <p className="text-sm text-muted-foreground empty:hidden" role="status" data-testid="file-saved">
        {saved ? "Saved." : null}
      </p>

      {file.isError ? (
        <ErrorState
          title={`Could not open ${shownPath}`}
          error={explainFilesError(file.error)}
          onRetry={file.refetch}
          testId="file-error"
        />
      ) : null}
      {file.isPending ? <LoadingState label={`Opening ${shownPath}…`} testId="file-loading" /> : null}
      {data && editing ? (
        <FileEditor
          boxId={boxId}
          file={data}
          name={name}
          onDone={(wasSaved) => {
            setEditing(false);
            setSaved(wasSaved);
          }}
        />
      ) : null}
      {data && !editing ? <FileBody file={data} name={name} /> : null}
    </section>
  );
}
