// The dashboard's document and styles. Its behaviour is typed TypeScript in controller/web,
// compiled by tsc to dist/web and served as /assets/web/*.js (see assets.ts).

export const PAGE_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>fleetroll</title>
    <link rel="stylesheet" href="/assets/app.css" />
    <script type="module" src="/assets/web/app.js"></script>
  </head>
  <body>
    <header class="top">
      <span class="brand">fleetroll</span>
      <span class="tagline">rollouts without a dropped request</span>
      <span class="spacer"></span>
      <span id="agents" class="pill"></span>
      <span id="connection" class="pill"></span>
    </header>
    <div class="layout">
      <aside class="sidebar">
        <div id="start"></div>
        <h2 class="section-title">Rollouts</h2>
        <nav id="rollout-list" aria-label="Rollouts"></nav>
      </aside>
      <main id="main"></main>
    </div>
  </body>
</html>
`;

export const PAGE_CSS = `
:root {
  --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --paper: #f8fafc; --card: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--paper);
}
* { box-sizing: border-box; }
body { margin: 0; }
h1, h2 { margin: 0; font-weight: 600; }
h1 { font-size: 20px; }
h2 { font-size: 15px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eef2f7; padding: 1px 4px; border-radius: 4px; }
[hidden] { display: none !important; }
.spacer { flex: 1; }
.muted { color: var(--muted); }

.top { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: var(--ink); color: #fff; }
.brand { font-weight: 700; font-size: 17px; letter-spacing: 0.02em; }
.tagline { color: #94a3b8; font-size: 13px; }
.pill { font-size: 12px; padding: 2px 10px; border-radius: 999px; background: #1e293b; color: #cbd5e1; }
.pill:empty { display: none; }
.pill[data-state="live"] { background: #14532d; color: #bbf7d0; }
.pill[data-state="live"]::before { content: "● "; color: #4ade80; }
.pill[data-state="reconnecting"], .pill[data-state="degraded"] { background: #78350f; color: #fde68a; }

.layout { display: grid; grid-template-columns: 290px 1fr; gap: 20px; padding: 20px; align-items: start; }
.sidebar { display: flex; flex-direction: column; gap: 12px; }
.section-title { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin-top: 6px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
#main { min-width: 0; }
.rollout { display: flex; flex-direction: column; gap: 16px; }

.start { display: flex; flex-direction: column; gap: 9px; }
.start label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
.start label.check { flex-direction: row; align-items: center; gap: 6px; color: var(--ink); font-size: 13px; }
.start small { color: #94a3b8; }
input, select { font: inherit; padding: 6px 8px; border: 1px solid #cbd5e1; border-radius: 6px; color: var(--ink); background: #fff; }
input[type="checkbox"] { padding: 0; }
.error { color: #b91c1c; margin: 0; font-size: 13px; }

button { font: inherit; font-weight: 500; padding: 6px 14px; border-radius: 6px; border: 1px solid #cbd5e1; background: #fff; color: var(--ink); cursor: pointer; }
button:hover { background: #f1f5f9; }
button:disabled { opacity: 0.5; cursor: default; }
button.primary { background: #2563eb; border-color: #2563eb; color: #fff; }
button.primary:hover { background: #1d4ed8; }
button.danger { color: #b91c1c; border-color: #fca5a5; }
button.danger:hover { background: #fee2e2; }
.confirm button.danger { background: #dc2626; border-color: #dc2626; color: #fff; }
button.small { padding: 3px 12px; font-size: 13px; }

.rollouts { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.rollouts a { display: flex; flex-direction: column; gap: 3px; padding: 8px 12px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); color: inherit; text-decoration: none; }
.rollouts a:hover { border-color: #93c5fd; }
.rollouts li.selected a { border-color: #2563eb; box-shadow: 0 0 0 1px #2563eb; }
.rollouts .row { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.rollouts .id { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.rollouts .image { font-size: 12px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }

.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 9px; border-radius: 999px; color: var(--c); background: var(--bg); border: 1px solid color-mix(in srgb, var(--c) 30%, transparent); white-space: nowrap; }
.tone-pending, .tone-waiting, .tone-skipped { --c: #64748b; --bg: #f1f5f9; }
.tone-pulling { --c: #0284c7; --bg: #e0f2fe; }
.tone-updating, .tone-running { --c: #2563eb; --bg: #dbeafe; }
.tone-pausing, .tone-paused { --c: #b45309; --bg: #fef3c7; }
.tone-succeeded, .tone-done { --c: #15803d; --bg: #dcfce7; }
.tone-failed, .tone-aborted { --c: #b91c1c; --bg: #fee2e2; }
.tone-rolling-back, .tone-rolled-back { --c: #c2410c; --bg: #ffedd5; }

.head { display: flex; flex-direction: column; gap: 6px; }
.title-row { display: flex; align-items: center; gap: 12px; }
.title-row h1 { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 18px; }
.meta { margin: 0; color: var(--muted); }
.message { margin: 0; }
.actions { display: flex; gap: 8px; margin-top: 4px; }
.confirm { margin-top: 6px; padding: 10px 12px; border: 1px solid #fca5a5; background: #fef2f2; border-radius: 8px; display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.confirm p { margin: 0; flex-basis: 100%; }
.banner { margin: 0; padding: 10px 14px; border-radius: 8px; background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; }

.groups { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.group { display: flex; flex-direction: column; gap: 10px; }
.group > header, .timeline > header { display: flex; align-items: center; gap: 10px; }
.progress { display: flex; align-items: center; gap: 10px; font-size: 13px; color: var(--muted); }
.track { flex: 0 0 120px; height: 6px; border-radius: 3px; background: #e2e8f0; overflow: hidden; }
.fill { display: block; height: 100%; background: #16a34a; transition: width 0.3s; }
.reason { margin: 0; font-size: 13px; color: #b45309; }
.hosts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.host { display: flex; flex-direction: column; gap: 4px; padding: 8px 10px; border-radius: 8px; background: var(--bg); border: 1px solid color-mix(in srgb, var(--c) 25%, transparent); border-left: 4px solid var(--c); transition: background 0.3s; }
.host-top { display: flex; align-items: baseline; justify-content: space-between; gap: 6px; }
.host-id { font: 600 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
.host-batch { font-size: 11px; color: var(--muted); white-space: nowrap; }
.host-state { font-size: 12px; font-weight: 600; color: var(--c); }
.host-detail { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.host-notes { list-style: none; margin: 2px 0 0; padding: 0; display: flex; flex-direction: column; gap: 3px; }
.host-note { font-size: 11px; line-height: 1.35; color: #92400e; background: #fffbeb; border-radius: 4px; padding: 2px 5px; overflow-wrap: anywhere; }
.host-note::before { content: "⚠ "; }
.slots { display: flex; gap: 4px; min-height: 14px; }
.slot { display: inline-block; width: 14px; height: 14px; border-radius: 3px; background: var(--s); border: 1px solid color-mix(in srgb, var(--s) 70%, #000); }
.phase-pending { --s: #e2e8f0; }
.phase-starting { --s: #93c5fd; }
.phase-draining { --s: #f59e0b; }
.phase-replacing { --s: #3b82f6; }
.phase-checking { --s: #8b5cf6; }
.phase-restoring { --s: #14b8a6; }
.phase-done { --s: #16a34a; }
.phase-rolling-back { --s: #ea580c; }
.phase-failed { --s: #dc2626; }

.timeline { display: flex; flex-direction: column; gap: 8px; }
.axis { font-size: 12px; color: var(--muted); }
.lane { display: grid; grid-template-columns: 110px 1fr 130px; align-items: center; gap: 10px; }
.lane-name { font-weight: 600; font-size: 13px; }
.lane-track { position: relative; height: 24px; background: #f1f5f9; border-radius: 6px; }
.lane-note { font-size: 12px; color: var(--muted); text-align: right; }
.bar { position: absolute; top: 2px; bottom: 2px; min-width: 16px; border-radius: 4px; border: 1px solid var(--card); background: var(--c); color: #fff; font-size: 11px; font-weight: 600; display: flex; align-items: center; justify-content: center; overflow: hidden; }
.bar.tone-running { background: repeating-linear-gradient(45deg, #2563eb 0 8px, #3b82f6 8px 16px); }
.bar.tone-soaking { background: repeating-linear-gradient(45deg, #0f766e 0 8px, #14b8a6 8px 16px); }
.bar.tone-paused { background: repeating-linear-gradient(45deg, #d97706 0 8px, #f59e0b 8px 16px); }

.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; font-size: 12px; color: var(--muted); }
.legend-title { font-weight: 600; color: var(--ink); }
.key { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; background: var(--bg); border-left: 3px solid var(--c); }
.empty h1 { margin-bottom: 6px; }
.empty p { margin: 0; color: var(--muted); }
@media (max-width: 860px) { .layout { grid-template-columns: 1fr; } }
`;
