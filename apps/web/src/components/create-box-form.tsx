"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createBoxInput } from "@vps-claude/contract";
import type { RefObject } from "react";
import { useForm } from "react-hook-form";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorMessage } from "@/lib/api-error";
import { BOX_NAME_MAX_LENGTH } from "@/lib/box";
import { showServerIssues } from "@/lib/form-errors";
import { orpc } from "@/lib/orpc";
import { ErrorState } from "./panel-states";

interface CreateBoxFormProps {
  /** Lets the empty state's call to action put the cursor in the name field. */
  nameInputRef?: RefObject<HTMLInputElement | null>;
}

function SkillPicker({
  selected,
  onChange,
  disabled,
}: {
  selected: readonly string[];
  onChange: (skills: string[]) => void;
  disabled: boolean;
}) {
  const skills = useQuery(orpc.box.skills.queryOptions({ staleTime: 60_000 }));
  const toggle = (name: string, on: boolean) =>
    onChange(on ? [...selected, name].sort() : selected.filter((skill) => skill !== name));

  return (
    <fieldset className="grid gap-2" data-testid="create-box-skills">
      <legend className="mb-1 text-sm font-medium">
        Skills <span className="font-normal text-muted-foreground">(optional)</span>
      </legend>
      {skills.isPending ? (
        <p className="text-sm text-muted-foreground" role="status">
          Loading the skill catalog…
        </p>
      ) : skills.isError ? (
        <ErrorState
          title="Could not load the skill catalog"
          error={skills.error}
          onRetry={() => skills.refetch()}
        />
      ) : skills.data.length === 0 ? (
        <p className="text-sm text-muted-foreground">
          This server offers no skills; boxes start with the built-in tools only.
        </p>
      ) : (
        <ul className="grid gap-2 sm:grid-cols-2">
          {skills.data.map((skill) => (
            <li key={skill.name}>
              <div
                className="flex items-start gap-3 rounded-md border p-3 text-sm has-[[data-state=checked]]:border-primary"
                data-testid="skill-option"
                data-skill={skill.name}
              >
                <Checkbox
                  id={`skill-${skill.name}`}
                  checked={selected.includes(skill.name)}
                  onCheckedChange={(checked) => toggle(skill.name, checked === true)}
                  disabled={disabled}
                  className="mt-0.5"
                />
                <Label htmlFor={`skill-${skill.name}`} className="grid cursor-pointer gap-0.5 font-normal">
                  <span className="font-medium">{skill.name}</span>
                  <span className="text-muted-foreground">{skill.description}</span>
                </Label>
              </div>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

export function CreateBoxForm({ nameInputRef }: CreateBoxFormProps) {
  const queryClient = useQueryClient();
  const form = useForm({ resolver: zodResolver(createBoxInput), defaultValues: { name: "", skills: [] } });
  const create = useMutation(
    orpc.box.create.mutationOptions({
      onSuccess: async () => {
        form.reset();
        await queryClient.invalidateQueries({ queryKey: orpc.box.list.key() });
      },
      onError: (error) => showServerIssues(error, form.setError, ["name", "skills"]),
    }),
  );
  const submitError = create.error && !form.formState.errors.name ? errorMessage(create.error) : null;

  return (
    <Card>
      <CardHeader>
        <CardTitle>Create a box</CardTitle>
        <CardDescription>
          A box is a Claude agent in its own sandbox, with its own email address, cronjobs and files.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Form {...form}>
          <form
            className="grid gap-4"
            onSubmit={form.handleSubmit((input) => create.mutate(input))}
            noValidate
            aria-label="Create a box"
            data-testid="create-box-form"
          >
            <div className="flex flex-col gap-3 sm:flex-row sm:items-start">
              <FormField
                control={form.control}
                name="name"
                render={({ field }) => (
                  <FormItem className="flex-1">
                    <FormLabel>Box name</FormLabel>
                    <FormControl>
                      <Input
                        {...field}
                        ref={(element) => {
                          field.ref(element);
                          if (nameInputRef) {
                            nameInputRef.current = element;
                          }
                        }}
                        maxLength={BOX_NAME_MAX_LENGTH}
                        placeholder="research-assistant"
                        autoComplete="off"
                        data-testid="create-box-name"
                      />
                    </FormControl>
                    <FormMessage data-testid="create-box-error" />
                  </FormItem>
                )}
              />
              <Button
                type="submit"
                className="sm:mt-[1.375rem]"
                disabled={create.isPending}
                data-testid="create-box-submit"
              >
                {create.isPending ? "Creating…" : "Create box"}
              </Button>
            </div>
            <FormField
              control={form.control}
              name="skills"
              render={({ field }) => (
                <SkillPicker
                  selected={field.value ?? []}
                  onChange={field.onChange}
                  disabled={create.isPending}
                />
              )}
            />
            {submitError ? (
              <p className="text-sm text-destructive" role="alert" data-testid="create-box-error">
                {submitError}
              </p>
            ) : null}
          </form>
        </Form>
      </CardContent>
    </Card>
  );
}
