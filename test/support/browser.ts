import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { z } from 'zod';

/** Debian's chromium (deploy/local/bootstrap.sh installs it); playwright's own download is never used. */
export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails, never skips, on a machine without the browser: a skipped UI test would pass unseen. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: the dashboard test needs Debian's chromium; run npm run bootstrap ` +
      `(as root: apt-get install -y chromium)`,
  );
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}

// Runs in the page before its own scripts. Tiles are filled before they are attached, so
// added nodes count as a change too. Plain JS in a string: the tests compile without DOM types.
const RECORD_HOST_STATES = `
window.__hostStates = {};
const note = (el) => {
  const host = el.getAttribute('data-host'), state = el.getAttribute('data-state');
  if (!host || !state) return;
  const seen = (window.__hostStates[host] ??= []);
  if (seen[seen.length - 1] !== state) seen.push(state);
};
new MutationObserver((records) => {
  for (const r of records) {
    if (r.type === 'attributes') note(r.target);
    for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      note(n);
      n.querySelectorAll('[data-host]').forEach(note);
    }
  }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
`;

/** From now on, every state each host tile of the page shows is recorded, in order. */
export async function recordHostStates(page: Page): Promise<void> {
  await page.addInitScript(RECORD_HOST_STATES);
}

const hostStatesSchema = z.record(z.string(), z.array(z.string()));

/** The states each host tile went through, consecutive repeats folded. */
export async function hostStates(page: Page): Promise<Record<string, string[]>> {
  return hostStatesSchema.parse(await page.evaluate('window.__hostStates'));
}
