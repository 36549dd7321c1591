import { ApiError, api, type StartForm } from './api.js';
import { h } from './dom.js';
import type { Status } from './types.js';

const FAILURE_ACTIONS = ['PAUSE', 'ABORT', 'ROLLBACK'] as const;

/** A comma-separated field's items: `1, 10%,` → ['1', '10%']. */
const items = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function field(label: string, input: HTMLElement, hint = ''): HTMLElement {
  return h('label', {}, h('span', {}, label), input, hint ? h('small', {}, hint) : null);
}

/** Starts a rollout as `fleetroll rollout start` would; the controller checks every value. */
export function startForm(onStarted: (status: Status) => void): HTMLElement {
  const image = h('input', { name: 'image', required: true, placeholder: 'registry:5000/app:v2' });
  const serial = h('input', { name: 'serial', value: '35%' });
  const maxFail = h('input', { name: 'maxFail', value: '0%' });
  const pauseAfter = h('input', { name: 'pauseAfter', placeholder: 'e.g. 1' });
  const soak = h('input', { name: 'soak', type: 'number', min: '0', step: 'any', value: '0' });
  const parallel = h('input', { name: 'groupsInParallel', type: 'checkbox' });
  const action = h(
    'select',
    { name: 'failureAction' },
    h('option', { value: 'PAUSE' }, 'pause'),
    h('option', { value: 'ABORT' }, 'abort'),
    h('option', { value: 'ROLLBACK' }, 'roll back'),
  );
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start rollout');
  const form = h(
    'form',
    { class: 'start card', 'aria-label': 'New rollout' },
    h('h2', {}, 'New rollout'),
    field('Image', image),
    field('Serial', serial, 'e.g. 3, 35% or 1,10%,50%'),
    field('Max fail', maxFail, 'share of a batch that may fail, e.g. 10%'),
    field('On failure', action),
    field('Soak (s)', soak, 'after each batch, wait, then check its hosts again'),
    field('Pause after batch', pauseAfter, 'wait for a resume after these, e.g. 1 or 1,3'),
    h('label', { class: 'check' }, parallel, h('span', {}, 'Groups in parallel')),
    submit,
    error,
  );
  error.hidden = true;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const request: StartForm = {
      image: image.value.trim(),
      serial: items(serial.value),
      groupsInParallel: parallel.checked,
      maxFail: maxFail.value.trim(),
      failureAction: FAILURE_ACTIONS.find((a) => a === action.value) ?? 'PAUSE',
      // Whole ms, as the controller takes them; it refuses what is out of bounds in plain words.
      soakMs: Math.round((soak.valueAsNumber || 0) * 1_000),
      // Not numbers (NaN goes as null) are refused by the controller with the field's name.
      pauseAfter: items(pauseAfter.value).map(Number),
      maxParallel: 0,
    };
    submit.disabled = true;
    error.hidden = true;
    api
      .start(request)
      .then(onStarted, (err: unknown) => {
        error.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
        error.hidden = false;
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}
