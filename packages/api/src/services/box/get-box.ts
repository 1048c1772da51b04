import type { ApiDeps } from "../../deps";
import { type BoxDto, toBoxDto } from "./box-dto";
import { getOwnedBox } from "./get-owned-box";

export async function getBox({
  deps,
  userId,
  boxId,
}: {
  deps: ApiDeps;
  userId: string;
  boxId: string;
}): Promise<BoxDto> {
  return toBoxDto(await getOwnedBox({ db: deps.db, userId, boxId }), deps.config.agentsDomain);
}
