import type { box } from "@vps-claude/db";

type BoxRow = typeof box.$inferSelect;

export interface BoxDto {
  id: string;
  name: string;
  subdomain: string;
  email: string;
  status: BoxRow["status"];
  errorMessage: string | null;
  skills: string[];
  spriteUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type BoxDtoSource = Pick<
  BoxRow,
  "id" | "name" | "subdomain" | "status" | "errorMessage" | "skills" | "spriteUrl" | "createdAt" | "updatedAt"
>;

export function toBoxDto(row: BoxDtoSource, agentsDomain: string): BoxDto {
  return {
    id: row.id,
    name: row.name,
    subdomain: row.subdomain,
    email: `${row.subdomain}@${agentsDomain}`,
    status: row.status,
    errorMessage: row.errorMessage,
    skills: row.skills,
    spriteUrl: row.spriteUrl,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
