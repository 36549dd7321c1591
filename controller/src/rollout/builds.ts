import { shortImageId, type msg } from '@fleetroll/shared';

type SlotImage = msg.SlotImage__Output;

/** What a slot runs, or ran: the image as it was named, and Docker's id of it ('' when unknown). */
export type SlotBuild = Pick<SlotImage, 'image' | 'imageId'>;

/** The rollout's image, and the ids its first prepared host pinned (none yet, or from older agents). */
export interface RolloutBuild {
  readonly image: string;
  readonly imageIds: readonly string[];
}

/**
 * Whether the slot runs the rollout's build. By id where both sides know it: a tag deployed again
 * under the same name (app:prod) names the old build on the slots and the new one in the rollout.
 */
export function isRolloutBuild(slot: SlotBuild, build: RolloutBuild): boolean {
  if (slot.imageId !== '' && build.imageIds.length > 0) return build.imageIds.includes(slot.imageId);
  return slot.image === build.image;
}

/** What a rollback sends to return slots to a build: the reference, the build it must be, and its name for people. */
export interface ReturnTarget {
  readonly image: string;
  readonly imageIds: string[];
  readonly name: string;
}

/**
 * The way back to what a slot ran. Its tag while the tag can still name that build, pinned to it so
 * that a tag moved since fails the rollback instead of installing a third build; its image id when
 * the rollout's own image has that name, which now names the rollout's build.
 */
export function returnTarget(previous: SlotBuild, build: RolloutBuild): ReturnTarget {
  if (previous.imageId === '') return { image: previous.image, imageIds: [], name: previous.image };
  const imageIds = [previous.imageId];
  if (previous.image !== build.image) return { image: previous.image, imageIds, name: previous.image };
  return {
    image: previous.imageId,
    imageIds,
    name: `${previous.image} as it was (${shortImageId(imageIds)})`,
  };
}
