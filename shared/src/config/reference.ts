import { z } from 'zod';
import { NAME_PATTERN } from '../names.js';
import { agentConfigSchema } from './agent.js';
import { controllerConfigSchema } from './controller.js';
import { inventorySchema } from './inventory.js';

/** The part of JSON Schema that z.toJSONSchema produces for these configs. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
}

export interface ReferenceRow {
  key: string;
  type: string;
  /** `required`, `optional`, or the default as YAML would spell it. */
  default: string;
  description: string;
}

interface Section {
  title: string;
  intro: string;
  schema: z.ZodType;
}

const SECTIONS: readonly Section[] = [
  {
    title: 'Agent: `/etc/fleetroll/agent.yml`',
    intro:
      'One per machine: `fleetroll-agent --config /etc/fleetroll/agent.yml`. ' +
      'Sample: [deploy/samples/agent.yml](../deploy/samples/agent.yml).',
    schema: agentConfigSchema,
  },
  {
    title: 'Controller: `/etc/fleetroll/controller.yml`',
    intro:
      'One per fleet: `fleetroll-controller --config /etc/fleetroll/controller.yml`. ' +
      'Sample: [deploy/samples/controller.yml](../deploy/samples/controller.yml).',
    schema: controllerConfigSchema,
  },
  {
    title: "Inventory: the file named by the controller's `inventory`",
    intro:
      'Re-read for every rollout, so editing it needs no restart. Also what `fleetroll plan --inventory` reads. ' +
      'Sample: [deploy/samples/inventory.yml](../deploy/samples/inventory.yml).',
    schema: inventorySchema,
  },
];

function jsonSchema(schema: z.ZodType): JsonSchema {
  // io 'input': what an operator writes, so a field with a default is not required.
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (s.type === 'array') {
    const least = s.minItems ? `, at least ${s.minItems}` : '';
    return `list of ${s.items ? typeOf(s.items) : 'anything'}${least}`;
  }
  if (s.type === 'string' && s.pattern !== undefined) {
    return s.pattern === NAME_PATTERN.source ? '[name](#names)' : `string matching \`${s.pattern}\``;
  }
  if ((s.type === 'integer' || s.type === 'number') && s.minimum !== undefined && s.maximum !== undefined) {
    return `${s.type} ${s.minimum}–${s.maximum}`;
  }
  return s.type ?? 'any';
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (required) return 'required';
  // An object's default is the sum of its fields' defaults, which have rows of their own.
  if (s.default === undefined || s.type === 'object') return 'optional';
  return `\`${JSON.stringify(s.default)}\``;
}

/** One row per field, depth first, in schema order; list items are written `key[].field`. */
export function referenceRows(schema: z.ZodType): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const walk = (s: JsonSchema, prefix: string) => {
    for (const [name, field] of Object.entries(s.properties ?? {})) {
      const key = `${prefix}${name}`;
      rows.push({
        key,
        type: typeOf(field),
        default: defaultOf(field, s.required?.includes(name) ?? false),
        description: field.description ?? '',
      });
      if (field.properties) walk(field, `${key}.`);
      if (field.items?.properties) walk(field.items, `${key}[].`);
    }
  };
  walk(jsonSchema(schema), '');
  return rows;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(rows: readonly ReferenceRow[]): string[] {
  return [
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`),
  ];
}

/** docs/configuration.md, generated so that the reference cannot drift from what the loaders accept. */
export function configReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the zod schemas in shared/src/config by `npm run docs:config`. Do not edit:',
    '     a unit test fails when this file and the schemas disagree. -->',
    '',
    'Every file is YAML. Every object is strict: a key the schema does not know (a typo) is an error',
    'naming it, and the daemon does not start (exit status 2). Times are milliseconds unless the key',
    'ends in `S`. The samples in [deploy/samples](../deploy/samples) are loaded by a unit test, so they',
    'stay valid.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `## ${section.title}`, '', section.intro, '', ...table(referenceRows(section.schema)));
  }
  lines.push(
    '',
    '## Names',
    '',
    'Host ids, groups, slot ids, containers, HAProxy backends and servers must match',
    `\`${NAME_PATTERN.source}\`: 1–63 letters, digits, \`.\`, \`_\` or \`-\`, starting with a letter or`,
    'digit. They reach the HAProxy runtime socket and the Docker API, so anything else (spaces,',
    'semicolons, slashes, newlines) is refused rather than escaped.',
    '',
  );
  return lines.join('\n');
}
