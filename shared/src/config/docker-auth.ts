import { z } from 'zod';

/**
 * One registry's entry in a Docker client config (`auths` of config.json, as `docker login`
 * writes it). Not strict: Docker writes other fields (email) that a pull does not need.
 */
const dockerAuthEntrySchema = z.object({
  auth: z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64 of user:password, as docker login writes it')
    .optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});

/** The part of a Docker client config (~/.docker/config.json) that holds registry credentials. */
export const dockerAuthFileSchema = z.object({
  auths: z.record(z.string(), dockerAuthEntrySchema).default({}),
  // Read only to say, when a pull is refused, that a helper would have had the credentials.
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

export type DockerAuthFile = z.infer<typeof dockerAuthFileSchema>;
export type DockerAuthEntry = z.infer<typeof dockerAuthEntrySchema>;
