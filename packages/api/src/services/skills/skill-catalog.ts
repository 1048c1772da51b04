import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSkillFrontMatter } from "@vps-claude/shared";
import { ServiceError } from "../../errors";

export interface Skill {
  name: string;
  description: string;
  /** Absolute path of the skill's folder on the platform host. */
  dir: string;
}

const cache = new Map<string, Promise<Skill[]>>();

/** The skills shipped in the repo: each a folder with a SKILL.md whose front matter names and describes it. */
export function listSkills(skillsDir: string): Promise<Skill[]> {
  let skills = cache.get(skillsDir);
  if (!skills) {
    skills = loadSkills(skillsDir);
    cache.set(skillsDir, skills);
  }
  return skills;
}

async function loadSkills(skillsDir: string): Promise<Skill[]> {
  const entries = await readdir(skillsDir, { withFileTypes: true }).catch(() => []);
  const skills: Skill[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) {
      continue;
    }
    const dir = join(skillsDir, entry.name);
    const text = await readFile(join(dir, "SKILL.md"), "utf8").catch(() => undefined);
    if (text === undefined) {
      continue;
    }
    skills.push({ name: entry.name, description: parseSkillFrontMatter(text).description ?? "", dir });
  }
  return skills.sort((a, b) => a.name.localeCompare(b.name));
}

export async function assertKnownSkills(skillsDir: string, requested: string[]): Promise<void> {
  const known = new Set((await listSkills(skillsDir)).map((skill) => skill.name));
  const unknown = requested.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ServiceError(
      "BAD_REQUEST",
      `unknown skill${unknown.length > 1 ? "s" : ""} ${unknown.map((name) => `'${name}'`).join(", ")}; available: ${[...known].join(", ") || "none"}`,
    );
  }
}
