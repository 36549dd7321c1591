import { z } from 'zod';

/**
 * Names travel into HAProxy runtime commands and Docker API paths. A strict
 * pattern (no spaces, semicolons, slashes or newlines) makes injection impossible
 * rather than merely escaped.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Docker container names may be longer than the names operators configure, so
 * that the agent can park a container under `<name>-fleetroll-old`.
 */
export const CONTAINER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

export const nameSchema = z
  .string()
  .regex(
    NAME_PATTERN,
    'must be 1-63 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

// The Docker reference grammar (distribution/reference), without the rarely used IPv6 hosts.
const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const domain =
  '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*(?::[0-9]+)?';
const IMAGE_REF = new RegExp(
  `^(?:${domain}/)?${component}(?:/${component})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

export const imageRefSchema = z
  .string()
  .max(255, 'an image reference is at most 255 characters')
  .regex(IMAGE_REF, 'is not a valid image reference (expected e.g. registry:5000/app:v2)');

/** What identifies a build (PrePullResponse.image_ids): Docker's image id, then registry digests. */
export const imageIdsSchema = z
  .array(
    z
      .string()
      .max(300)
      .regex(
        /^([^@\s]+@)?sha256:[0-9a-f]{64}$/,
        'must be an image id (sha256:…) or a digest (name@sha256:…)',
      ),
  )
  .max(64, 'at most 64 image ids');

/** Whether two builds are one: the same image id, or pulled by the same digest (a manifest list's across platforms). */
export function sameBuild(a: readonly string[], b: readonly string[]): boolean {
  return a.some((id) => b.includes(id));
}

/** "sha256:1a2b3c4d5e6f": enough of a build's image id to tell two apart in a message. */
export function shortImageId(ids: readonly string[]): string {
  const id = ids[0];
  return id === undefined ? 'no image' : id.slice(0, 'sha256:'.length + 12);
}
