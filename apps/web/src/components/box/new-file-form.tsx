"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { writeFileInput } from "@vps-claude/contract";
import { useForm } from "react-hook-form";
import { z } from "zod";
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
import { Textarea } from "@/components/ui/textarea";
import { asApiError, errorMessage, issuesAllShown } from "@/lib/api-error";
import { displayPath, explainFilesError, pathInDirectory, splitPath } from "@/lib/box-files";
import { showServerIssues } from "@/lib/form-errors";
import { api } from "@/lib/orpc";
import { SubmitButton } from "./submit-button";

/** `path` is what the owner types, relative to the folder shown; the contract's rules apply to the content. */
const newFileForm = z.object({
  path: z
    .string()
    .trim()
    .refine(
      (name) => name !== "" && name !== "~" && name !== "~/",
      "Give the file a name, like notes/todo.md.",
    )
    .refine((name) => !name.endsWith("/"), "The name ends with '/': add the file's name after it."),
  content: writeFileInput.shape.content,
});
type NewFileValues = z.infer<typeof newFileForm>;
const FIELDS = ["path", "content"] as const;

/** The write replaces an existing file, so look first; "New file" must never overwrite one. */
async function fileExists(boxId: string, path: string): Promise<boolean> {
  const { parent, name } = splitPath(path);
  try {
    const listing = await api.files.list({ boxId, path: parent });
    return listing.entries.some((entry) => entry.name === name);
  } catch (error) {
    // The write creates a missing folder, and a path the server refuses gets its own message from the write.
    const status = asApiError(error)?.status;
    if (status === 404 || status === 400) {
      return false;
    }
    throw error;
  }
}

interface NewFileFormProps {
  boxId: string;
  /** The directory being shown ("" is the home); a relative name goes below it. */
  dir: string;
  formId: string;
  onCreated: (path: string) => void;
  onCancel: () => void;
}

export function NewFileForm({ boxId, dir, formId, onCreated, onCancel }: NewFileFormProps) {
  const form = useForm<NewFileValues>({
    resolver: zodResolver(newFileForm),
    defaultValues: { path: "", content: "" },
  });
  const create = useMutation({
    mutationFn: async (values: NewFileValues) => {
      const path = pathInDirectory(dir, values.path);
      if (await fileExists(boxId, path)) {
        return { created: false, path };
      }
      const written = await api.files.write({ boxId, path, content: values.content, encoding: "utf8" });
      return { created: true, path: written.path };
    },
    onSuccess: ({ created, path }) => {
      if (created) {
        onCreated(path);
      } else {
        form.setError("path", {
          type: "exists",
          message: `${displayPath(path)} already exists: open it and use Edit to change it.`,
        });
      }
    },
    onError: (error) => showServerIssues(error, form.setError, FIELDS),
  });
  const formError =
    create.error && !issuesAllShown(create.error, FIELDS)
      ? errorMessage(explainFilesError(create.error))
      : null;

  return (
    <Form {...form}>
      <form
        id={formId}
        className="grid gap-3 rounded-lg border p-3"
        onSubmit={form.handleSubmit((values) => create.mutate(values))}
        noValidate
        aria-label="New file"
        data-testid="file-create-form"
      >
        <FormField
          control={form.control}
          name="path"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Name</FormLabel>
              <FormControl>
                <Input
                  {...field}
                  // The form opens on request, so the cursor goes where the typing starts.
                  autoFocus
                  className="font-mono"
                  placeholder="notes/todo.md"
                  autoComplete="off"
                  spellCheck={false}
                  data-testid="file-name"
                />
              </FormControl>
              <FormDescription>
                Inside {displayPath(dir)}. Slashes make folders; missing ones are created.
              </FormDescription>
              <FormMessage data-testid="file-name-error" />
            </FormItem>
          )}
        />
        <FormField
          control={form.control}
          name="content"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Content</FormLabel>
              <FormControl>
                <Textarea
                  {...field}
                  rows={8}
                  className="field-sizing-fixed font-mono text-xs"
                  spellCheck={false}
                  data-testid="file-new-content"
                />
              </FormControl>
              <FormMessage />
            </FormItem>
          )}
        />
        {formError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="file-create-error">
            {formError}
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={onCancel} disabled={create.isPending}>
            Cancel
          </Button>
          <SubmitButton pending={create.isPending} pendingLabel="Creating…" testId="file-create">
            Create file
          </SubmitButton>
        </div>
      </form>
    </Form>
  );
}
