import { spawn } from 'node:child_process';
import { ImagePullError, credentialHelperAnswerSchema } from '@fleetroll/shared';
import type { PullAuth } from './registry-auth.js';

const HELPER_TIMEOUT_MS = 10_000;
// What docker-credential-* helpers print, by convention, for a registry they hold nothing for.
const NOT_FOUND = /credentials not found/i;
// The user name by which a helper says its secret is an identity token, not a password.
const TOKEN_USER = '<token>';

/**
 * Asks a docker-credential-* helper (credsStore, credHelpers) for a registry's credentials, as
 * the docker CLI does: `get` with the server address on stdin, JSON on stdout. Undefined when
 * the helper holds none for it; throws ImagePullError when it cannot be run or answers nonsense.
 */
export async function askCredentialHelper(
  helper: string,
  serveraddress: string,
): Promise<PullAuth | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await run(program, serveraddress);
  if (code !== 0) {
    if (NOT_FOUND.test(stdout + stderr)) return undefined;
    throw new ImagePullError(
      `credential helper ${program} failed for ${serveraddress}: ${(stderr || stdout).trim() || `exit ${code}`}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new ImagePullError(`credential helper ${program} did not answer JSON for ${serveraddress}`);
  }
  const parsed = credentialHelperAnswerSchema.safeParse(json);
  if (!parsed.success) {
    throw new ImagePullError(`credential helper ${program} answered without Username and Secret`);
  }
  const answer = parsed.data;
  return answer.Username === TOKEN_USER
    ? { identitytoken: answer.Secret, serveraddress }
    : { username: answer.Username, password: answer.Secret, serveraddress };
}

function run(program: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ImagePullError(
          err.code === 'ENOENT'
            ? `credential helper ${program} is not installed on this host (not on PATH)`
            : `credential helper ${program} could not be run: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `killed by ${signal}` : stderr }),
    );
    // A helper that exits without reading its stdin closes the pipe: its exit status says what
    // happened, and an unheard EPIPE would end the agent.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
