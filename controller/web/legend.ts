import { h } from './dom.js';
import { PHASE_LABEL, type SlotPhase } from './slots.js';

const HOST_TONES = ['pending', 'pulling', 'updating', 'succeeded', 'failed', 'skipped', 'rolling-back'];
const PHASES: readonly SlotPhase[] = ['pending', 'draining', 'replacing', 'checking', 'done', 'failed'];

/** What the colours mean, for hosts and for the slot squares inside them. */
export function legend(): HTMLElement {
  return h(
    'section',
    { class: 'legend', 'aria-label': 'Legend' },
    h('span', { class: 'legend-title' }, 'Hosts'),
    ...HOST_TONES.map((t) =>
      h('span', { class: 'key' }, h('i', { class: `swatch tone-${t}` }), t.replace('-', ' ')),
    ),
    h('span', { class: 'legend-title' }, 'Slots'),
    ...PHASES.map((p) => h('span', { class: 'key' }, h('i', { class: `slot phase-${p}` }), PHASE_LABEL[p])),
  );
}
