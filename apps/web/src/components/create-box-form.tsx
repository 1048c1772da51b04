"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, type RefObject, useCallback, useId, useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";
import { BOX_NAME_MAX_LENGTH, type Box, validateBoxName } from "@/lib/box";
import { skillsApi } from "@/lib/box-api";
import { Field } from "./field";
import { SubmitButton } from "./form-buttons";
import { ErrorState } from "./panel-states";
import { useResource } from "./use-resource";

interface CreateBoxFormProps {
  onCreated: (box: Box) => void;
  /** Lets the empty state's call to action put the cursor in the name field. */
  nameInputRef?: RefObject<HTMLInputElement | null>;
}

function SkillPicker({
  selected,
  onToggle,
  disabled,
}: {
  selected: ReadonlySet<string>;
  onToggle: (name: string) => void;
  disabled: boolean;
}) {
  const load = useCallback(() => skillsApi.list(), []);
  const skills = useResource(load);

  return (
    <fieldset className="fieldset skill-picker" data-testid="create-box-skills">
      <legend>
        Skills <span className="muted">(optional)</span>
      </legend>
      {skills.loading ? (
        <p className="muted small" role="status">
          Loading the skill catalog…
        </p>
      ) : skills.error ? (
        <ErrorState title="Could not load the skill catalog" error={skills.error} onRetry={skills.reload} />
      ) : (skills.data ?? []).length === 0 ? (
        <p className="muted small">This server offers no skills; boxes start with the built-in tools only.</p>
      ) : (
        <ul className="skill-options">
          {(skills.data ?? []).map((skill) => (
            <li key={skill.name}>
              <label className="skill-option" data-testid="skill-option" data-skill={skill.name}>
                <input
                  type="checkbox"
                  checked={selected.has(skill.name)}
                  onChange={() => onToggle(skill.name)}
                  disabled={disabled}
                />
                <span>
                  <span className="skill-name">{skill.name}</span>
                  <span className="muted small skill-description">{skill.description}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

export function CreateBoxForm({ onCreated, nameInputRef }: CreateBoxFormProps) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [skills, setSkills] = useState<ReadonlySet<string>>(() => new Set());
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const errorId = useId();

  function toggleSkill(skill: string) {
    setSkills((current) => {
      const next = new Set(current);
      if (next.has(skill)) {
        next.delete(skill);
      } else {
        next.add(skill);
      }
      return next;
    });
  }

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
      const box = await boxesApi.create({
        name: name.trim(),
        ...(skills.size > 0 ? { skills: [...skills].sort() } : {}),
      });
      setName("");
      setSkills(new Set());
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
      <div className="form-grid form-grid-two">
        <Field label="Box name" htmlFor={nameId}>
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
        </Field>
        <div className="field field-submit">
          <SubmitButton busy={submitting} busyLabel="Creating…" testId="create-box-submit">
            Create box
          </SubmitButton>
        </div>
      </div>
      <SkillPicker selected={skills} onToggle={toggleSkill} disabled={submitting} />
      {error ? (
        <p id={errorId} className="form-error" role="alert" data-testid="create-box-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
