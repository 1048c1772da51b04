"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { type UseQueryResult, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { setBudgetInput } from "@vps-claude/contract";
import Link from "next/link";
import { useForm } from "react-hook-form";
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
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { asApiError, errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { showServerIssues } from "@/lib/form-errors";
import { api, orpc } from "@/lib/orpc";
import { budgetInputText, formatUsd, parseBudgetAmount } from "@/lib/usage";
import type { UserBudget } from "@/lib/usage-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { NumberCell } from "./usage-table";

/**
 * The amount as typed ("$12.50", "" for no cap), read into dollars and then held to the contract's
 * own range, so the field shows the server's sentence before the round trip.
 */
const capForm = z.object({
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

/**
 * A cap form has one field, so a 400 is about the amount even when it is not a schema issue (the
 * server's "at most the platform's limit of $50.00" or "fractions of a cent").
 */
function isAmountRefusal(error: unknown): boolean {
  return asApiError(error)?.status === 400;
}

/**
 * One cap's form: parses the amount, sends it, puts what the server says about it under the field,
 * and invalidates every budget view (this page's figures and the banner on every page).
 */
function useCapForm(
  saved: number | null,
  send: (monthlyUsd: number | null) => Promise<{ monthlyUsd: number | null }>,
) {
  const queryClient = useQueryClient();
  const form = useForm({
    resolver: zodResolver(capForm),
    defaultValues: { monthlyUsd: budgetInputText(saved) },
  });
  const save = useMutation({
    mutationFn: send,
    onSuccess: async (updated) => {
      form.reset({ monthlyUsd: budgetInputText(updated.monthlyUsd) });
      await queryClient.invalidateQueries({ queryKey: orpc.budget.key() });
    },
    onError: (error) => {
      if (!showServerIssues(error, form.setError, ["monthlyUsd"]) && isAmountRefusal(error)) {
        form.setError("monthlyUsd", { type: "server", message: errorMessage(error) });
      }
    },
  });
  const onSubmit = form.handleSubmit(({ monthlyUsd }) => save.mutate(monthlyUsd));
  const formError = save.error && !form.formState.errors.monthlyUsd ? errorMessage(save.error) : null;
  return { form, save, onSubmit, formError };
}

function UserCapForm({ budget }: { budget: UserBudget }) {
  const { form, save, onSubmit, formError } = useCapForm(budget.monthlyUsd, (monthlyUsd) =>
    api.budget.set({ monthlyUsd }),
  );
  const platformCap = budget.defaultMonthlyUsd;

  return (
    <Form {...form}>
      <form
        className="grid gap-2"
        onSubmit={onSubmit}
        noValidate
        aria-label="Your monthly cap"
        data-testid="budget-form"
      >
        <FormField
          control={form.control}
          name="monthlyUsd"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Your monthly cap (US dollars)</FormLabel>
              <div className="flex max-w-sm gap-2">
                <FormControl>
                  <Input
                    {...field}
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder={platformCap === null ? "No cap" : budgetInputText(platformCap)}
                    data-testid="budget-input"
                  />
                </FormControl>
                <Button type="submit" disabled={save.isPending} data-testid="budget-save">
                  {save.isPending ? "Saving…" : "Save"}
                </Button>
              </div>
              <FormDescription>
                Leave it empty for no cap of your own
                {platformCap === null
                  ? "."
                  : `; the platform's cap of ${formatUsd(platformCap)} applies, and yours may only be lower.`}{" "}
                Every box's runs stop when the month's spend reaches it.
              </FormDescription>
              <FormMessage role="alert" data-testid="budget-error" />
            </FormItem>
          )}
        />
        {formError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="budget-form-error">
            {formError}
          </p>
        ) : null}
        {save.isSuccess ? (
          <p className="text-sm text-success" role="status" data-testid="budget-saved">
            Saved.
          </p>
        ) : null}
      </form>
    </Form>
  );
}

function BoxCapForm({ box, monthlyUsd }: { box: Box; monthlyUsd: number | null }) {
  const { form, save, onSubmit, formError } = useCapForm(monthlyUsd, (next) =>
    api.budget.setBox({ boxId: box.id, monthlyUsd: next }),
  );
  return (
    <Form {...form}>
      <form className="grid gap-1" onSubmit={onSubmit} noValidate aria-label={`Monthly cap for ${box.name}`}>
        <FormField
          control={form.control}
          name="monthlyUsd"
          render={({ field }) => (
            <FormItem className="gap-1">
              <FormLabel className="sr-only">Monthly cap for {box.name} (US dollars)</FormLabel>
              <div className="flex items-center gap-2">
                <FormControl>
                  <Input
                    {...field}
                    className="w-28"
                    inputMode="decimal"
                    autoComplete="off"
                    placeholder="No cap"
                    data-testid="box-budget-input"
                  />
                </FormControl>
                <Button
                  type="submit"
                  variant="outline"
                  size="sm"
                  disabled={save.isPending}
                  data-testid="box-budget-save"
                >
                  Save<span className="sr-only"> the cap for {box.name}</span>
                </Button>
                {save.isSuccess ? (
                  <span className="text-sm text-success" role="status">
                    Saved.
                  </span>
                ) : null}
              </div>
              <FormMessage role="alert" className="whitespace-normal" data-testid="box-budget-error" />
            </FormItem>
          )}
        />
        {formError ? (
          <p
            className="text-sm whitespace-normal text-destructive"
            role="alert"
            data-testid="box-budget-error"
          >
            {formError}
          </p>
        ) : null}
      </form>
    </Form>
  );
}

function BoxCapRow({ box }: { box: Box }) {
  const budget = useQuery(orpc.budget.getBox.queryOptions({ input: { boxId: box.id } }));
  return (
    <TableRow data-testid="box-budget-row" data-box-id={box.id} id={`box-budget-${box.id}`}>
      <TableHead scope="row" className="font-normal">
        <Link
          href={`/boxes/${encodeURIComponent(box.id)}`}
          className="font-medium text-foreground hover:underline"
        >
          {box.name}
        </Link>
      </TableHead>
      {budget.data ? (
        <>
          <NumberCell name="spent" value={budget.data.spentUsd} text={formatUsd(budget.data.spentUsd)} />
          <TableCell>
            <BoxCapForm box={box} monthlyUsd={budget.data.monthlyUsd} />
          </TableCell>
        </>
      ) : (
        <TableCell colSpan={2}>
          {budget.isError ? (
            <span className="text-destructive">Could not load its budget: {errorMessage(budget.error)}</span>
          ) : (
            <span className="text-muted-foreground">Loading…</span>
          )}
        </TableCell>
      )}
    </TableRow>
  );
}

function BoxCaps({ boxes }: { boxes: UseQueryResult<Box[]> }) {
  if (boxes.isPending) {
    return <LoadingState label="Loading boxes…" />;
  }
  if (boxes.isError) {
    return (
      <ErrorState title="Could not load your boxes" error={boxes.error} onRetry={() => boxes.refetch()} />
    );
  }
  if (boxes.data.length === 0) {
    return <EmptyState title="No boxes yet" />;
  }
  return (
    <Table data-testid="box-budgets" scrollLabel="Monthly caps per box">
      <caption className="sr-only">Monthly caps per box</caption>
      <TableHeader>
        <TableRow>
          <TableHead scope="col">Box</TableHead>
          <TableHead scope="col" className="text-right">
            Spent this month
          </TableHead>
          <TableHead scope="col">Monthly cap (USD)</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {boxes.data.map((box) => (
          <BoxCapRow key={box.id} box={box} />
        ))}
      </TableBody>
    </Table>
  );
}

export function BudgetSettings({ budget, boxes }: { budget: UserBudget; boxes: UseQueryResult<Box[]> }) {
  return (
    <Card id="budget" aria-labelledby="budget-title" data-testid="budget-settings">
      <CardHeader>
        <CardTitle id="budget-title">Budgets</CardTitle>
        <CardDescription>
          Caps are checked before each model request and media call is forwarded; over a cap the request is
          refused and the run ends failed with the reason. You get an email at 80 % and at 100 % of each cap,
          once a month.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-6">
        <UserCapForm budget={budget} />
        <section className="grid grid-cols-1 gap-2" aria-labelledby="box-caps-title">
          <h3 id="box-caps-title" className="font-medium">
            Per box
          </h3>
          <p className="text-sm text-muted-foreground">
            A box's own cap stops that box alone; empty means only your monthly cap applies.
          </p>
          <BoxCaps boxes={boxes} />
        </section>
      </CardContent>
    </Card>
  );
}
