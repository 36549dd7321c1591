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

// Becomes part of a program name (docker-credential-NAME) the agent runs: nothing like a path.
const helperName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a credential helper name, e.g. ecr-login');

/** The part of a Docker client config (~/.docker/config.json) that holds registry credentials. */
export const dockerAuthFileSchema = z.object({
  auths: z.record(z.string(), dockerAuthEntrySchema).default({}),
  credsStore: helperName.optional(),
  credHelpers: z.record(z.string(), helperName).optional(),
});

/** What a docker-credential-* helper prints for `get`. Not strict: helpers add fields of their own. */
export const credentialHelperAnswerSchema = z.object({
  Username: z.string(),
  Secret: z.string(),
});

export type DockerAuthFile = z.infer<typeof dockerAuthFileSchema>;
export type DockerAuthEntry = z.infer<typeof dockerAuthEntrySchema>;
