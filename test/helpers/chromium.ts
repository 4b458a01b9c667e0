/**
 * Debian's headless `chromium` for browser tests and benches, driven by playwright-core: never a
 * downloaded browser (none can be fetched here; `.ci/run` installs `chromium` when missing).
 */
import { type Browser, chromium } from 'playwright-core';

/** The flags a headless, sandbox-less, offline Chromium needs on a CI machine. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches `/usr/bin/chromium`; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS] });
}
