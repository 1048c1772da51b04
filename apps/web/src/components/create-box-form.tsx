"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, type RefObject, useId, useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";
import { BOX_NAME_MAX_LENGTH, type Box, validateBoxName } from "@/lib/box";

function parseSkills(raw: string): string[] {
  return raw
    .split(/[\s,]+/)
    .map((skill) => skill.trim())
    .filter((skill) => skill.length > 0);
}

interface CreateBoxFormProps {
  onCreated: (box: Box) => void;
  /** Lets the empty state's call to action put the cursor in the name field. */
  nameInputRef?: RefObject<HTMLInputElement | null>;
}

export function CreateBoxForm({ onCreated, nameInputRef }: CreateBoxFormProps) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [skills, setSkills] = useState("");
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const skillsId = useId();
  const errorId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const invalid = validateBoxName(name);
    if (invalid) {
      setError(invalid);
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const parsedSkills = parseSkills(skills);
      const box = await boxesApi.create({
        name: name.trim(),
        ...(parsedSkills.length > 0 ? { skills: parsedSkills } : {}),
      });
      setName("");
      setSkills("");
      onCreated(box);
    } catch (caught) {
      if (isUnauthorized(caught)) {
        router.replace("/sign-in");
        return;
      }
      setError(errorMessage(caught));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <form
      className="card create-box-form"
      onSubmit={submit}
      noValidate
      aria-label="Create a box"
      data-testid="create-box-form"
    >
      <h2 className="card-title">Create a box</h2>
      <p className="muted">
        A box is a Claude agent in its own sandbox, with its own email address, cronjobs and files.
      </p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={nameId}>Box name</label>
          <input
            ref={nameInputRef}
            id={nameId}
            name="name"
            type="text"
            value={name}
            onChange={(event) => setName(event.target.value)}
            maxLength={BOX_NAME_MAX_LENGTH}
            placeholder="research-assistant"
            autoComplete="off"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            data-testid="create-box-name"
            required
          />
        </div>
        <div className="field">
          <label htmlFor={skillsId}>
            Skills <span className="muted">(optional)</span>
          </label>
          <input
            id={skillsId}
            name="skills"
            type="text"
            value={skills}
            onChange={(event) => setSkills(event.target.value)}
            placeholder="separated by commas or spaces"
            autoComplete="off"
            data-testid="create-box-skills"
          />
        </div>
        <div className="field field-submit">
          <button
            type="submit"
            className="button button-primary"
            disabled={submitting}
            data-testid="create-box-submit"
          >
            {submitting ? "Creating…" : "Create box"}
          </button>
        </div>
      </div>
      {error ? (
        <p id={errorId} className="form-error" role="alert" data-testid="create-box-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
