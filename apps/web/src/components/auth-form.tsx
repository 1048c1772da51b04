"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useId, useState } from "react";
import { authApi, describeAuthError } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";
import { Field } from "./field";
import { SubmitButton } from "./form-buttons";

export const MIN_PASSWORD_LENGTH = 8;

type Mode = "sign-in" | "sign-up";

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function validate(mode: Mode, fields: { name: string; email: string; password: string }): string | null {
  if (mode === "sign-up" && fields.name.trim().length === 0) {
    return "Enter your name.";
  }
  if (!EMAIL_PATTERN.test(fields.email.trim())) {
    return "Enter a valid email address, like you@example.com.";
  }
  if (mode === "sign-up" && fields.password.length < MIN_PASSWORD_LENGTH) {
    return `The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`;
  }
  if (fields.password.length === 0) {
    return "Enter your password.";
  }
  return null;
}

interface AuthFormProps {
  mode: Mode;
  /** Where to go once signed in; a local path. */
  returnTo: string;
  notice?: string | null;
}

export function AuthForm({ mode, returnTo, notice = null }: AuthFormProps) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const ids = { name: useId(), email: useId(), password: useId(), error: useId(), hint: useId() };
  const signingUp = mode === "sign-up";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const invalid = validate(mode, { name, email, password });
    if (invalid) {
      setError(invalid);
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      if (signingUp) {
        const result = await authApi.signUp({ name: name.trim(), email: email.trim(), password });
        // Without a token the server wants something else first (e.g. email verification).
        if (!result.token) {
          router.replace("/sign-in?registered=1");
          return;
        }
      } else {
        await authApi.signIn({ email: email.trim(), password });
      }
      router.replace(returnTo);
      router.refresh();
    } catch (caught) {
      setError(describeAuthError(caught, MIN_PASSWORD_LENGTH) ?? errorMessage(caught));
      setSubmitting(false);
    }
  }

  const describedBy =
    [signingUp ? ids.hint : null, error ? ids.error : null].filter(Boolean).join(" ") || undefined;
  const otherHref = returnTo === "/" ? "" : `?next=${encodeURIComponent(returnTo)}`;

  return (
    <form className="card auth-card" onSubmit={submit} noValidate data-testid={`${mode}-form`}>
      <h1 className="card-title">{signingUp ? "Create your account" : "Sign in"}</h1>
      <p className="muted">
        {signingUp ? "Start running Claude agents in their own sandboxes." : "Welcome back to VPS Claude."}
      </p>
      {notice ? (
        <p className="banner" role="status">
          {notice}
        </p>
      ) : null}
      {signingUp ? (
        <Field label="Name" htmlFor={ids.name}>
          <input
            id={ids.name}
            name="name"
            type="text"
            autoComplete="name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            required
          />
        </Field>
      ) : null}
      <Field label="Email" htmlFor={ids.email}>
        <input
          id={ids.email}
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          required
        />
      </Field>
      <Field label="Password" htmlFor={ids.password}>
        <input
          id={ids.password}
          name="password"
          type="password"
          autoComplete={signingUp ? "new-password" : "current-password"}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
          required
        />
        {signingUp ? (
          <p id={ids.hint} className="muted small">
            At least {MIN_PASSWORD_LENGTH} characters.
          </p>
        ) : null}
      </Field>
      {error ? (
        <p id={ids.error} className="form-error" role="alert" data-testid="auth-error">
          {error}
        </p>
      ) : null}
      <SubmitButton
        busy={submitting}
        busyLabel={signingUp ? "Creating account…" : "Signing in…"}
        className="button button-primary button-block"
      >
        {signingUp ? "Create account" : "Sign in"}
      </SubmitButton>
      <p className="auth-switch">
        {signingUp ? (
          <>
            Already have an account? <Link href={`/sign-in${otherHref}`}>Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link href={`/sign-up${otherHref}`}>Create an account</Link>
          </>
        )}
      </p>
    </form>
  );
}
