import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { parseSkillFrontMatter } from "@vps-claude/shared";
import { oneLine } from "../text";

export { parseSkillFrontMatter };

export interface InstalledSkill {
  /** The folder's name under `~/.claude/skills`. */
  dir: string;
  /** From the front matter's `name:`, else the folder's name. */
  name: string;
  description: string;
  /** Absolute path of its SKILL.md. */
  file: string;
}

/** The front matter sits at the top; this much is plenty and bounds what a huge file costs us. */
const HEAD_BYTES = 16 * 1024;
/** Each skill is one line of every run's system prompt: keep the section small. */
const MAX_SKILLS = 50;
const MAX_NAME_CHARS = 64;
const MAX_DESCRIPTION_CHARS = 400;

function readHead(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const length = readSync(fd, buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, length).toString("utf8");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The skills the platform installed (`<skillsDir>/<name>/SKILL.md`), by name. Cheap enough to call
 * for every run, so a skill installed while the daemon runs is offered from the next run on.
 */
export function listInstalledSkills(skillsDir: string): InstalledSkill[] {
  let dirs: string[];
  try {
    dirs = readdirSync(skillsDir, { withFileTypes: true })
      .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith("."))
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  const skills: InstalledSkill[] = [];
  for (const dir of dirs.sort()) {
    const file = join(skillsDir, dir, "SKILL.md");
    const head = readHead(file);
    if (head === undefined) {
      continue;
    }
    const meta = parseSkillFrontMatter(head);
    skills.push({
      dir,
      name: oneLine(meta.name || dir, MAX_NAME_CHARS),
      description: oneLine(meta.description ?? "", MAX_DESCRIPTION_CHARS),
      file,
    });
  }
  return skills.slice(0, MAX_SKILLS);
}

/**
 * Runs use `settingSources: []`, so Claude Code does not discover skills by itself; the system prompt
 * lists them and says where their instructions are. The path is absolute: the Read tool needs one.
 */
export function skillsPromptSection(skills: InstalledSkill[], options: { readTool: boolean }): string {
  if (skills.length === 0) {
    return "";
  }
  const how = options.readTool
    ? "read it with the Read tool before using the skill"
    : "read it before using the skill";
  const lines = skills.map((skill) => {
    const description = skill.description === "" ? "" : `: ${skill.description}`;
    return `- ${skill.name}${description} (instructions: ${skill.file} — ${how})`;
  });
  return `## Skills installed in this box\n\n${lines.join("\n")}`;
}

export function withSkillsSection(
  systemPrompt: string,
  skills: InstalledSkill[],
  options: { readTool: boolean },
): string {
  const section = skillsPromptSection(skills, options);
  if (section === "") {
    return systemPrompt;
  }
  return systemPrompt.trim() === "" ? section : `${systemPrompt.trimEnd()}\n\n${section}`;
}
