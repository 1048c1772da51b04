import matter from "gray-matter";

/** A closed front-matter block at the very top: a head cut mid-block, or no block at all, has none. */
const CLOSED_BLOCK = /^\uFEFF?---\r?\n[\s\S]*?\r?\n---(?:\r?\n|$)/;

const oneLine = (value: unknown): string | undefined =>
  typeof value === "string" ? value.replace(/\s+/g, " ").trim() : undefined;

/**
 * `name:` and `description:` of a SKILL.md's YAML front matter, each folded into one line (which is
 * how the prompt and the catalog show them). Malformed YAML is no front matter, not an error.
 */
export function parseSkillFrontMatter(text: string): { name?: string; description?: string } {
  if (!CLOSED_BLOCK.test(text)) {
    return {};
  }
  try {
    // An options object keeps gray-matter from caching every input it ever parsed.
    const { data } = matter(text, {});
    return { name: oneLine(data.name), description: oneLine(data.description) };
  } catch {
    return {};
  }
}
