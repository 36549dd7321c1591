import { word } from '../view/words.js';
import { Keyed, h, setAttrs, setText, syncChildren } from './dom.js';
import { duration, isFinished, tone } from './format.js';
import { PHASE_LABEL, type SlotBook, type SlotView } from './slots.js';
import type { GroupStatus, HostStatus, Status } from './types.js';

export type GroupAction = 'pause' | 'resume';

/** What a group's button does now; none once it has finished. */
function actionOf(group: GroupStatus): GroupAction | undefined {
  switch (group.state) {
    case 'GROUP_PAUSING':
    case 'GROUP_PAUSED':
      return 'resume';
    case 'GROUP_WAITING':
    case 'GROUP_RUNNING':
      return 'pause';
    default:
      return undefined;
  }
}

/** The step a host is on, as words: "app_2 · health check". */
function hostDetail(host: HostStatus, slots: readonly SlotView[]): string {
  if (host.state === 'HOST_UPDATING' || host.state === 'HOST_ROLLING_BACK') {
    const current = slots.find((s) => s.name === host.slot);
    if (current) return `${current.name} · ${PHASE_LABEL[current.phase]}`;
    return host.slot || 'starting';
  }
  if (host.state === 'HOST_FAILED') return host.errorCode || 'failed';
  if (host.slotsTotal === 0) return host.state === 'HOST_PENDING' ? 'not started' : '';
  return `${host.slotsDone} of ${host.slotsTotal} slots`;
}

/** "app_2: on the new image · weight 0 for 1.2 s". */
function slotTitle(slot: SlotView, i: number): string {
  const window = slot.windowMs === undefined ? '' : ` · weight 0 for ${duration(slot.windowMs)}`;
  return `${slot.name || `slot ${i + 1}`}: ${PHASE_LABEL[slot.phase]}${window}`;
}

interface HostTile {
  root: HTMLElement;
  batch: HTMLElement;
  state: HTMLElement;
  detail: HTMLElement;
  slots: HTMLElement;
  notes: HTMLElement;
}

interface GroupCard {
  root: HTMLElement;
  state: HTMLElement;
  progress: HTMLElement;
  bar: HTMLElement;
  reason: HTMLElement;
  button: HTMLButtonElement;
  hosts: HTMLElement;
}

/**
 * The fleet as a grid by group: one card per group with its counters and pause/resume button, one
 * tile per host coloured by state, and in each tile one square per slot coloured by its phase.
 * Elements are kept across updates (only attributes and text change), so a button does not move
 * under the pointer while events stream in.
 */
export class GroupsView {
  readonly root = h('section', { class: 'groups', 'aria-label': 'Hosts by group' });
  private readonly cards = new Keyed<GroupCard>((group) => this.makeCard(group));
  private readonly tiles = new Keyed<HostTile>((hostId) => this.makeTile(hostId));

  constructor(private readonly onAction: (group: string, action: GroupAction) => void) {}

  render(status: Status, book: SlotBook): void {
    const live = !isFinished(status.state);
    const cards = status.groups.map((group) => {
      const card = this.cards.get(group.group);
      this.fillCard(card, group, live);
      const hosts = status.hosts.filter((host) => host.group === group.group);
      syncChildren(
        card.hosts,
        hosts.map((host) => this.fillTile(host, book)),
      );
      return card.root;
    });
    this.cards.sweep();
    this.tiles.sweep();
    syncChildren(this.root, cards);
  }

  private makeCard(group: string): GroupCard {
    const state = h('span', { class: 'badge' });
    const progress = h('span', { class: 'counts' });
    const bar = h('span', { class: 'fill' });
    const reason = h('p', { class: 'reason' });
    const button = h('button', { type: 'button', class: 'small', 'data-group': group });
    button.addEventListener('click', () => {
      const action = button.dataset['action'];
      if (action === 'pause' || action === 'resume') this.onAction(group, action);
    });
    const hosts = h('div', { class: 'hosts' });
    const root = h(
      'article',
      { class: 'group card', 'data-group': group },
      h('header', {}, h('h2', {}, group), state, h('span', { class: 'spacer' }), button),
      h('div', { class: 'progress' }, h('span', { class: 'track' }, bar), progress),
      reason,
      hosts,
    );
    return { root, state, progress, bar, reason, button, hosts };
  }

  private fillCard(card: GroupCard, group: GroupStatus, live: boolean): void {
    setAttrs(card.root, { 'data-state': group.state });
    setText(card.state, word(group.state));
    setAttrs(card.state, { class: `badge tone-${tone(group.state)}` });
    const batch = group.batchesTotal > 0 ? ` · batch ${group.currentBatch + 1} of ${group.batchesTotal}` : '';
    const failed = group.hostsFailed > 0 ? ` · ${group.hostsFailed} failed` : '';
    setText(card.progress, `${group.hostsDone} of ${group.hostsTotal} hosts done${failed}${batch}`);
    const pct = group.hostsTotal > 0 ? (100 * group.hostsDone) / group.hostsTotal : 0;
    card.bar.style.width = `${pct.toFixed(1)}%`;
    setText(card.reason, group.pauseReason);
    card.reason.hidden = group.pauseReason === '';
    const action = live ? actionOf(group) : undefined;
    card.button.hidden = action === undefined;
    setAttrs(card.button, { 'data-action': action });
    setText(card.button, action === 'resume' ? 'Resume' : 'Pause');
  }

  private makeTile(hostId: string): HostTile {
    const batch = h('span', { class: 'host-batch' });
    const state = h('span', { class: 'host-state' });
    const detail = h('span', { class: 'host-detail' });
    const slots = h('span', { class: 'slots' });
    const notes = h('ul', { class: 'host-notes' });
    const root = h(
      'div',
      { class: 'host', 'data-host': hostId },
      h('span', { class: 'host-top' }, h('span', { class: 'host-id' }, hostId), batch),
      state,
      slots,
      detail,
      notes,
    );
    return { root, batch, state, detail, slots, notes };
  }

  private fillTile(host: HostStatus, book: SlotBook): HTMLElement {
    const tile = this.tiles.get(host.hostId);
    const { root } = tile;
    const slots = book.slots(host);
    setAttrs(root, {
      'data-state': host.state,
      class: `host tone-${tone(host.state)}`,
      title: host.message || undefined,
    });
    setText(tile.batch, `batch ${host.batch + 1}`);
    setText(tile.state, word(host.state));
    setText(tile.detail, hostDetail(host, slots));
    const squares = slots.map((slot, i) =>
      h('span', {
        class: `slot phase-${slot.phase}`,
        'data-phase': slot.phase,
        title: slotTitle(slot, i),
      }),
    );
    // Squares and notes carry no listeners or focus, so they are simply redrawn.
    tile.slots.replaceChildren(...squares);
    tile.notes.replaceChildren(...host.notes.map((note) => h('li', { class: 'host-note' }, note)));
    tile.notes.hidden = host.notes.length === 0;
    return root;
  }
}
