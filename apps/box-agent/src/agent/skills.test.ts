import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listInstalledSkills, parseSkillFrontMatter, skillsPromptSection, withSkillsSection } from "./skills";

let skillsDir: string;

beforeEach(() => {
  skillsDir = join(mkdtempSync(join(tmpdir(), "box-agent-skills-")), ".claude", "skills");
});

afterEach(() => {
  rmSync(join(skillsDir, "..", ".."), { recursive: true, force: true });
});

function installSkill(dir: string, text: string): void {
  mkdirSync(join(skillsDir, dir), { recursive: true });
  writeFileSync(join(skillsDir, dir, "SKILL.md"), text);
}

describe("installed skills", () => {
  it("reads name and description from each SKILL.md's front matter, by name", () => {
    installSkill(
      "web-research",
      "---\nname: web-research\ndescription: Research a question on the web, cite sources.\n---\n\n# Web research\n",
    );
    installSkill(
      "daily-briefing",
      '---\nname: "daily-briefing"\ndescription: >\n  Compose a short\n  daily briefing.\n---\n',
    );
    installSkill("no-front-matter", "# Just instructions\n");
    mkdirSync(join(skillsDir, "empty-folder"));
    mkdirSync(join(skillsDir, ".hidden"));
    writeFileSync(join(skillsDir, "stray.md"), "not a skill");

    expect(listInstalledSkills(skillsDir)).toEqual([
      {
        dir: "daily-briefing",
        name: "daily-briefing",
        description: "Compose a short daily briefing.",
        file: join(skillsDir, "daily-briefing", "SKILL.md"),
      },
      {
        dir: "no-front-matter",
        name: "no-front-matter",
        description: "",
        file: join(skillsDir, "no-front-matter", "SKILL.md"),
      },
      {
        dir: "web-research",
        name: "web-research",
        description: "Research a question on the web, cite sources.",
        file: join(skillsDir, "web-research", "SKILL.md"),
      },
    ]);
  });

  it("finds none when the skills folder does not exist", () => {
    expect(listInstalledSkills(skillsDir)).toEqual([]);
  });

  it("keeps a description to one line", () => {
    expect(parseSkillFrontMatter("---\r\nname: x\r\ndescription: 'a: b'\r\n---\r\n")).toEqual({
      name: "x",
      description: "a: b",
    });
    installSkill("x", `---\ndescription: |\n  line one\n  line two\n---\n`);
    expect(listInstalledSkills(skillsDir)[0]?.description).toBe("line one line two");
  });

  it("appends a section naming each skill and where its instructions are", () => {
    installSkill("note-keeper", "---\nname: note-keeper\ndescription: Keep durable notes.\n---\n");
    const skills = listInstalledSkills(skillsDir);
    const file = join(skillsDir, "note-keeper", "SKILL.md");
    expect(skillsPromptSection(skills, { readTool: true })).toBe(
      `## Skills installed in this box\n\n- note-keeper: Keep durable notes. (instructions: ${file} — read it with the Read tool before using the skill)`,
    );
    expect(withSkillsSection("You are a box.\n", skills, { readTool: false })).toBe(
      `You are a box.\n\n## Skills installed in this box\n\n- note-keeper: Keep durable notes. (instructions: ${file} — read it before using the skill)`,
    );
    expect(withSkillsSection("You are a box.", [], { readTool: true })).toBe("You are a box.");
  });
});
