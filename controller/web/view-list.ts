import { word } from '../view/words.js';
import { h } from './dom.js';
import { clock, tone } from './format.js';
import type { Status } from './types.js';

/** Past and present rollouts, newest first, each a link to its page. */
export function renderList(rollouts: readonly Status[], selected: string | undefined): HTMLElement {
  if (rollouts.length === 0) return h('p', { class: 'muted' }, 'No rollouts yet.');
  return h(
    'ul',
    { class: 'rollouts' },
    ...rollouts.map((r) =>
      h(
        'li',
        { 'data-rollout': r.id, class: r.id === selected ? 'selected' : undefined },
        h(
          'a',
          { href: `#/rollouts/${encodeURIComponent(r.id)}` },
          h('span', { class: 'row' }, h('span', { class: 'id' }, r.id)),
          h(
            'span',
            { class: 'row' },
            h('span', { class: `badge tone-${tone(r.state)}` }, word(r.state)),
            h('span', { class: 'muted' }, clock(r.createdAtMs)),
          ),
          h('span', { class: 'image' }, r.image),
        ),
      ),
    ),
  );
}
