// The dashboard: the rollouts on the left, the selected one on the right, kept live by the
// controller's server-sent events. Served by the controller at /; no build step beyond tsc.
import { ApiError, api } from './api.js';
import { h } from './dom.js';
import { isFinished } from './format.js';
import { legend } from './legend.js';
import { SlotBook } from './slots.js';
import { startForm } from './start-form.js';
import type { Status, Update } from './types.js';
import { GroupsView } from './view-groups.js';
import { HeadView, type RolloutAction } from './view-head.js';
import { renderList } from './view-list.js';
import { renderTimeline } from './view-timeline.js';

const POLL_MS = 5_000;
const TICK_MS = 1_000;

function element(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

const main = element('main');
const listBox = element('rollout-list');
const connection = element('connection');
const agentsBox = element('agents');

const book = new SlotBook();
let rollouts: Status[] = [];
let current: Status | undefined;
let openId: string | undefined;
let source: EventSource | undefined;

const banner = h('p', { class: 'banner', role: 'alert' });
banner.hidden = true;
const head = new HeadView((action) => control(action));
const groups = new GroupsView((group, action) => control(action, group));
let timeline = h('section', {});
const view = h('div', { class: 'rollout' }, head.root, banner, groups.root, timeline, legend());

/** The rollout named in the address, or undefined to follow the newest one. */
function wanted(): string | undefined {
  const match = /^#\/rollouts\/(.+)$/.exec(location.hash);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

function setConnection(state: 'live' | 'reconnecting' | 'ended' | 'idle'): void {
  connection.dataset['state'] = state;
  connection.textContent = { live: 'live', reconnecting: 'reconnecting…', ended: 'ended', idle: '' }[state];
}

function showError(err: unknown): void {
  banner.textContent = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
  banner.hidden = false;
}

function show(status: Status): void {
  // A control's answer can arrive after a newer event: the page never steps back in time.
  if (current?.id === status.id && status.updatedAtMs < current.updatedAtMs) return;
  const changed = current?.state !== status.state;
  current = status;
  view.hidden = false;
  const now = Date.now();
  head.render(status, now);
  groups.render(status, book);
  const next = renderTimeline(status, now);
  timeline.replaceWith(next);
  timeline = next;
  if (changed) void refreshList();
}

function open(id: string): void {
  if (openId === id) return;
  source?.close();
  openId = id;
  current = undefined;
  book.clear();
  banner.hidden = true;
  // Until its first event, the view would show the rollout seen before.
  view.hidden = true;
  main.replaceChildren(view);
  renderSidebar();
  const events = new EventSource(api.eventsUrl(id));
  source = events;
  events.onopen = () => setConnection('live');
  events.onmessage = (message: MessageEvent<string>) => {
    const update = JSON.parse(message.data) as Update;
    for (const step of update.steps) book.record(step);
    show(update.status);
  };
  events.addEventListener('end', () => {
    events.close();
    setConnection('ended');
  });
  events.onerror = () => {
    // EventSource retries by itself unless the server refused the stream outright (an unknown id).
    if (events.readyState === EventSource.CLOSED && current === undefined) {
      showError(new ApiError('UNKNOWN_ROLLOUT', `no rollout ${id} on this controller`));
      setConnection('idle');
    } else if (events.readyState !== EventSource.CLOSED) {
      setConnection('reconnecting');
    }
  };
}

function showEmpty(): void {
  source?.close();
  openId = undefined;
  current = undefined;
  setConnection('idle');
  main.replaceChildren(
    h(
      'section',
      { class: 'empty card' },
      h('h1', {}, 'No rollout yet'),
      h('p', {}, 'Start one with the form, or with ', h('code', {}, 'fleetroll rollout start'), '.'),
    ),
  );
}

function renderSidebar(): void {
  listBox.replaceChildren(renderList(rollouts, openId));
}

function route(): void {
  const id = wanted() ?? rollouts[0]?.id;
  if (id === undefined) showEmpty();
  else open(id);
}

async function refreshList(): Promise<void> {
  try {
    rollouts = await api.list();
  } catch {
    // The event stream shows the controller as unreachable; the list tries again shortly.
    return;
  }
  // Following the newest: a rollout started elsewhere (the CLI) takes over the page.
  if (wanted() === undefined && rollouts[0] && rollouts[0].id !== openId) open(rollouts[0].id);
  else if (wanted() === undefined && rollouts.length === 0) showEmpty();
  renderSidebar();
}

async function refreshAgents(): Promise<void> {
  try {
    const agents = await api.agents();
    const alive = agents.filter((a) => a.alive).length;
    const warned = agents.filter((a) => a.warnings.length > 0);
    agentsBox.textContent =
      (agents.length === 0 ? 'no agents known' : `${alive} of ${agents.length} agents alive`) +
      (warned.length > 0 ? ` · ${warned.length} with warnings` : '');
    agentsBox.title = warned.flatMap((a) => a.warnings.map((w) => `${a.hostId}: ${w}`)).join('\n');
    agentsBox.dataset['state'] = alive === agents.length && warned.length === 0 ? 'ok' : 'degraded';
  } catch {
    agentsBox.textContent = 'agents unknown';
    agentsBox.dataset['state'] = 'degraded';
  }
}

function control(action: RolloutAction, group?: string): void {
  const id = openId;
  if (id === undefined) return;
  banner.hidden = true;
  const call = action === 'abort' ? api.abort(id) : api[action](id, group);
  call.then(show, showError);
}

element('start').replaceWith(
  startForm((status) => {
    // Shown at once, from the start's answer; the event stream takes over from there.
    open(status.id);
    show(status);
    location.hash = `#/rollouts/${encodeURIComponent(status.id)}`;
  }),
);
window.addEventListener('hashchange', route);
setInterval(() => {
  void refreshList();
  void refreshAgents();
}, POLL_MS);
setInterval(() => {
  // Durations and the running batches' bars grow while nothing else happens.
  if (current && !isFinished(current.state)) show(current);
}, TICK_MS);
void refreshAgents();
void refreshList().then(route);
