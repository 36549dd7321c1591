// Generates TypeScript types for the proto contract into shared/src/generated.
// Runs on every build so that the types can never drift from the .proto files.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const protoDir = join(root, 'proto');
const files = readdirSync(join(protoDir, 'fleetroll/v1'))
  .filter((f) => f.endsWith('.proto'))
  .map((f) => `fleetroll/v1/${f}`);
const bin = join(root, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
execFileSync(
  process.execPath,
  [
    bin,
    '--grpcLib=@grpc/grpc-js',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--inputTemplate=%s',
    '--outputTemplate=%s__Output',
    '--includeDirs',
    protoDir,
    '--outDir',
    join(root, 'shared/src/generated'),
    ...files,
  ],
  { stdio: 'inherit' },
);

// NodeNext resolution wants explicit extensions; the generator writes none.
const outDir = join(root, 'shared/src/generated');
for (const entry of readdirSync(outDir, { recursive: true })) {
  const file = join(outDir, String(entry));
  if (!file.endsWith('.ts')) continue;
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace(/from '(\.{1,2}\/[^']+)'/g, "from '$1.js'"));
}
