"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader } from "@/components/ui/card";
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
import { errorMessage } from "@/lib/api-error";
import { authClient } from "@/lib/auth-client";

/** better-auth's `minPasswordLength` and `maxPasswordLength` in packages/auth. */
const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 128;

type Mode = "sign-in" | "sign-up";

const email = z.string().trim().pipe(z.email("Enter a valid email address, like you@example.com."));

/**
 * better-auth checks these on the server too; checking them here first saves a round trip and puts the
 * sentence under the field it is about.
 */
const signInSchema = z.object({
  email,
  password: z.string().min(1, "Enter your password."),
});

const signUpSchema = z.object({
  name: z.string().trim().min(1, "Enter your name."),
  email,
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`)
    .max(MAX_PASSWORD_LENGTH, "The password is too long."),
});

type AuthValues = z.output<typeof signUpSchema>;

/** What better-auth's client answers when a call fails. */
interface AuthFailure {
  status: number;
  code?: string;
  message?: string;
}

class AuthError extends Error {
  constructor(readonly failure: AuthFailure) {
    super(failure.message || `Request failed with status ${failure.status}`);
  }
}

/** better-auth's error codes as sentences that tell the user what to do. */
function describeAuthError(error: unknown): string {
  if (!(error instanceof AuthError)) {
    return errorMessage(error);
  }
  const { status, code } = error.failure;
  if (status === 429) {
    return "Too many attempts. Wait a minute, then try again.";
  }
  switch (code) {
    case "INVALID_EMAIL_OR_PASSWORD":
    case "INVALID_PASSWORD":
      return "Wrong email or password.";
    case "USER_ALREADY_EXISTS":
    case "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL":
      return "An account with this email already exists. Sign in instead, or use another email.";
    case "PASSWORD_TOO_SHORT":
      return `The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`;
    case "PASSWORD_TOO_LONG":
      return "The password is too long.";
    case "INVALID_EMAIL":
      return "That email address does not look valid.";
    case "INVALID_ORIGIN":
    case "MISSING_OR_NULL_ORIGIN":
      return "The server does not trust this dashboard's address. Set PUBLIC_URL to the URL in your address bar.";
    default:
      return error.message;
  }
}

/** Signs up or in; answers whether a session now exists (a sign-up may first want the email verified). */
async function authenticate(mode: Mode, { name, email, password }: AuthValues): Promise<boolean> {
  if (mode === "sign-up") {
    const { data, error } = await authClient.signUp.email({ name, email, password });
    if (error) {
      throw new AuthError(error);
    }
    return Boolean(data.token);
  }
  const { error } = await authClient.signIn.email({ email, password });
  if (error) {
    throw new AuthError(error);
  }
  return true;
}

const TEXT: Record<Mode, { title: string; description: string; submit: string; busy: string }> = {
  "sign-in": {
    title: "Sign in",
    description: "Welcome back to VPS Claude.",
    submit: "Sign in",
    busy: "Signing in…",
  },
  "sign-up": {
    title: "Create your account",
    description: "Start running Claude agents in their own sandboxes.",
    submit: "Create account",
    busy: "Creating account…",
  },
};

/** An auth page that keeps where to go once signed in (`?next=`), so switching pages does not lose it. */
function authPath(path: string, returnTo: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params);
  if (returnTo !== "/") {
    query.set("next", returnTo);
  }
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

interface AuthFormProps {
  mode: Mode;
  /** Where to go once signed in; a local path (see lib/return-path). */
  returnTo: string;
  notice?: string | null;
}

export function AuthForm({ mode, returnTo, notice = null }: AuthFormProps) {
  const router = useRouter();
  const signingUp = mode === "sign-up";
  const text = TEXT[mode];
  // Sign-in has no name: the schema without it, and an empty default that is never sent.
  const form = useForm<AuthValues>({
    resolver: zodResolver(signingUp ? signUpSchema : signInSchema.extend({ name: z.string() })),
    defaultValues: { name: "", email: "", password: "" },
  });
  const submit = useMutation({
    mutationFn: (values: AuthValues) => authenticate(mode, values),
    onSuccess: (signedIn) => {
      if (!signedIn) {
        router.replace(authPath("/sign-in", returnTo, { registered: "1" }));
        return;
      }
      router.replace(returnTo);
      router.refresh();
    },
  });
  // A redirect is on its way after success: the button stays busy until the next page shows.
  const busy = submit.isPending || submit.isSuccess;
  // The server's answer shows only while no field is wrong: one message at a time, where it belongs.
  const fieldErrors = Object.keys(form.formState.errors).length > 0;
  const serverError = submit.error && !fieldErrors ? describeAuthError(submit.error) : null;

  return (
    <Card className="w-full max-w-md">
      <CardHeader>
        <h1 className="text-xl leading-none font-semibold">{text.title}</h1>
        <CardDescription>{text.description}</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {notice ? (
          <p className="rounded-md border bg-muted px-3 py-2 text-sm" role="status">
            {notice}
          </p>
        ) : null}
        <Form {...form}>
          <form
            className="grid gap-4"
            onSubmit={form.handleSubmit((values) => submit.mutate(values))}
            noValidate
            aria-label={text.title}
            data-testid={`${mode}-form`}
          >
            {signingUp ? (
              <FormField
                control={form.control}
                name="name"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Name</FormLabel>
                    <FormControl>
                      <Input {...field} type="text" autoComplete="name" />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
            ) : null}
            <FormField
              control={form.control}
              name="email"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>Email</FormLabel>
                  <FormControl>
                    <Input {...field} type="email" autoComplete="email" />
                  </FormControl>
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormField
              control={form.control}
              name="password"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>Password</FormLabel>
                  <FormControl>
                    <Input
                      {...field}
                      type="password"
                      autoComplete={signingUp ? "new-password" : "current-password"}
                    />
                  </FormControl>
                  {signingUp ? (
                    <FormDescription>At least {MIN_PASSWORD_LENGTH} characters.</FormDescription>
                  ) : null}
                  <FormMessage data-testid="auth-error" />
                </FormItem>
              )}
            />
            {serverError ? (
              <Alert variant="destructive" data-testid="auth-error">
                <AlertDescription className="text-destructive">{serverError}</AlertDescription>
              </Alert>
            ) : null}
            <Button type="submit" className="w-full" disabled={busy}>
              {busy ? text.busy : text.submit}
            </Button>
          </form>
        </Form>
      </CardContent>
      <CardFooter className="justify-center text-sm text-muted-foreground">
        {signingUp ? (
          <p>
            Already have an account?{" "}
            <Link
              href={authPath("/sign-in", returnTo)}
              className="font-medium text-primary underline-offset-4 hover:underline"
            >
              Sign in
            </Link>
          </p>
        ) : (
          <p>
            New here?{" "}
            <Link
              href={authPath("/sign-up", returnTo)}
              className="font-medium text-primary underline-offset-4 hover:underline"
            >
              Create an account
            </Link>
          </p>
        )}
      </CardFooter>
    </Card>
  );
}
