import { z } from 'zod';
import { parseInput } from './validate.js';

/** One batch size: a host count (0 = every host still waiting) or a share of the rollout's hosts. */
export type SerialItem =
  { readonly kind: 'count'; readonly n: number } | { readonly kind: 'percent'; readonly p: number };

/** Never empty, because the last item is the one that repeats until the hosts run out. */
export type SerialSpec = readonly [SerialItem, ...SerialItem[]];

const NOT_AN_ITEM = 'is not a count (3) or a percentage (35%)';
const ITEM = /^(-?)(\d+)(\.\d+)?(%?)$/;

type ItemResult = { readonly item: SerialItem } | { readonly problem: string };

function show(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (Array.isArray(raw)) return 'a list';
  return typeof raw === 'object' && raw !== null ? 'an object' : String(raw);
}

function checkNumber(value: number, negative: boolean, percent: boolean, shown: string): ItemResult {
  if (negative) return { problem: `${shown} is negative` };
  if (!Number.isInteger(value)) return { problem: `${shown} is not a whole number` };
  if (!percent) {
    return Number.isSafeInteger(value)
      ? { item: { kind: 'count', n: value } }
      : { problem: `${shown} is too large` };
  }
  if (value > 100) return { problem: `${shown} is over 100%` };
  // Ansible turns "0%" into batches of one host, while a count of 0 means every host at once: the
  // two spellings of "zero" would mean opposite things. Refusing "0%" makes the operator say which.
  if (value === 0) {
    return {
      problem: `${shown} is ambiguous: use 0 for all remaining hosts in one batch, or 1 for one host at a time`,
    };
  }
  return { item: { kind: 'percent', p: value } };
}

function parseItem(raw: unknown): ItemResult {
  if (typeof raw === 'number') return checkNumber(raw, raw < 0, false, show(raw));
  if (typeof raw !== 'string') return { problem: `${show(raw)} ${NOT_AN_ITEM}` };
  const text = raw.trim();
  const shown = show(text);
  if (text === '') return { problem: 'is empty' };
  const match = ITEM.exec(text);
  if (!match) return { problem: `${shown} ${NOT_AN_ITEM}` };
  const [, sign, digits, fraction, percent] = match;
  // Even "1.0": Ansible's int() refuses it too, and a decimal point in a batch size hints at a typo.
  if (fraction !== undefined) return { problem: `${shown} is not a whole number` };
  return checkNumber(Number(digits), sign === '-', percent === '%', shown);
}

function itemsOf(value: unknown): { readonly items: readonly unknown[] } | { readonly problem: string } {
  if (Array.isArray(value)) return value.length > 0 ? { items: value } : { problem: 'is an empty list' };
  if (typeof value === 'number') return { items: [value] };
  if (typeof value !== 'string')
    return { problem: `${show(value)} is not a count, a percentage or a list of them` };
  if (value.trim() === '') return { problem: 'is empty' };
  // The CLI's comma form; a YAML/JSON spec may use either it or a real list.
  const items = value.split(',');
  return items.some((item) => item.trim() === '')
    ? { problem: `${show(value)} has an empty item` }
    : { items };
}

/**
 * `serial` as it appears in a flag or a spec file: `3`, `"35%"`, `[1, "10%", "50%"]` or `"1,10%,50%"`.
 * Embed it in a spec schema to get field paths such as `serial.2` in its errors.
 */
export const serialSpecSchema = z.unknown().transform((value, ctx): SerialSpec => {
  const list = itemsOf(value);
  if ('problem' in list) {
    ctx.addIssue({ code: 'custom', input: value, message: list.problem });
    return z.NEVER;
  }
  const parsed: SerialItem[] = [];
  list.items.forEach((raw, i) => {
    const result = parseItem(raw);
    if ('item' in result) parsed.push(result.item);
    else
      ctx.addIssue({
        code: 'custom',
        input: raw,
        path: Array.isArray(value) ? [i] : [],
        message: result.problem,
      });
  });
  const [first, ...rest] = parsed;
  if (first === undefined || parsed.length !== list.items.length) return z.NEVER;
  return [first, ...rest];
});

/** Throws InvalidInputError naming `label` (e.g. `--serial: "120%" is over 100%`). */
export function parseSerialSpec(value: unknown, label = 'serial'): SerialSpec {
  return parseInput(serialSpecSchema, value, label);
}

/** The CLI's comma form: `parseSerialSpec(formatSerialSpec(s))` gives `s` back. */
export function formatSerialSpec(spec: SerialSpec): string {
  return spec.map((item) => (item.kind === 'count' ? String(item.n) : `${item.p}%`)).join(',');
}
