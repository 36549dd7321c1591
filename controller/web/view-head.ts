import { word } from '../view/words.js';
import { h, setAttrs, setText } from './dom.js';
import { clock, duration, isFinished, tone } from './format.js';
import type { Status } from './types.js';

export type RolloutAction = 'pause' | 'resume' | 'abort';

/**
 * The rollout's identity, state and message, with the controls that apply to all of it. Abort
 * cannot be undone, so its button only opens a confirmation; the confirmation does the abort.
 */
export class HeadView {
  private readonly title = h('h1', {});
  private readonly state = h('span', { class: 'badge' });
  private readonly meta = h('p', { class: 'meta' });
  private readonly message = h('p', { class: 'message' });
  private readonly pauseAll = this.button('Pause all', 'pause-all', () => this.onAction('pause'));
  private readonly resumeAll = this.button('Resume all', 'resume-all', () => this.onAction('resume'));
  private readonly abort = this.button('Abort…', 'abort', () => this.confirming(true), 'danger');
  private readonly confirm = h(
    'div',
    { class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm abort' },
    h(
      'p',
      {},
      'Abort this rollout? Hosts in flight finish the slot they are on; hosts not started are skipped. ',
      'It cannot be resumed.',
    ),
    this.button(
      'Abort rollout',
      'confirm-abort',
      () => {
        this.confirming(false);
        this.onAction('abort');
      },
      'danger',
    ),
    this.button('Keep it running', 'cancel-abort', () => this.confirming(false)),
  );
  readonly root = h(
    'section',
    { class: 'head card' },
    h('div', { class: 'title-row' }, this.title, this.state),
    this.meta,
    this.message,
    h('div', { class: 'actions' }, this.pauseAll, this.resumeAll, this.abort),
    this.confirm,
  );

  constructor(private readonly onAction: (action: RolloutAction) => void) {
    this.confirm.hidden = true;
  }

  render(status: Status, now: number): void {
    // A confirmation is for the rollout it was asked on, never for the next one shown.
    if (this.root.dataset['rollout'] !== status.id) this.confirming(false);
    setAttrs(this.root, { 'data-rollout': status.id, 'data-state': status.state });
    setText(this.title, status.id);
    setText(this.state, word(status.state));
    setAttrs(this.state, { class: `badge tone-${tone(status.state)}` });
    const took = duration((status.finishedAtMs || now) - status.createdAtMs);
    const serial = status.serial.join(', ') || 'one batch';
    const soakMs = status.request?.soakMs ?? 0;
    const pauseAfter = status.request?.pauseAfter ?? [];
    const soak =
      (soakMs > 0 ? ` · each batch soaks ${duration(soakMs)}` : '') +
      (pauseAfter.length > 0 ? ` · pauses after batch ${pauseAfter.join(', ')}` : '');
    // The build the rollout pinned (see docs/decisions.md), as short as `docker images` shows an id.
    const pinned = status.imageIds[0];
    const build = pinned ? ` (build ${pinned.slice('sha256:'.length, 'sha256:'.length + 12)})` : '';
    setText(
      this.meta,
      `${status.image}${build} · serial ${serial}${soak} · over ${status.transport} · started ${clock(status.createdAtMs)} · ${took}`,
    );
    setText(this.message, status.message);
    this.message.hidden = status.message === '';
    const finished = isFinished(status.state);
    const groups = status.groups.filter((g) => g.state !== 'GROUP_DONE' && g.state !== 'GROUP_FAILED');
    this.pauseAll.hidden = finished || groups.every((g) => g.pauseReason !== '');
    this.resumeAll.hidden = finished || groups.every((g) => g.pauseReason === '');
    this.abort.hidden = finished;
    if (finished) this.confirming(false);
  }

  private confirming(on: boolean): void {
    this.confirm.hidden = !on;
    this.abort.disabled = on;
  }

  private button(label: string, action: string, onClick: () => void, kind = ''): HTMLButtonElement {
    const b = h('button', { type: 'button', class: kind, 'data-action': action }, label);
    b.addEventListener('click', onClick);
    return b;
  }
}
