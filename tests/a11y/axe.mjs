// Opens each URL given on the command line in headless Chromium, runs axe-core with the
// WCAG 2.0, 2.1 and 2.2 A and AA rules, and prints one JSON line per page:
// {"url": …, "final": the URL after any redirect, "status": …,
//  "violations": [{"id", "impact", "help", "nodes": [target…]}]}.
// CHROMIUM names the browser binary; AXE_COOKIES (optional) carries a session.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The portal's CSP forbids every script; axe is injected by the test, so let it in.
  const context = await browser.newContext({ bypassCSP: true });
  const urls = process.argv.slice(2);
  // AXE_COOKIES: a JSON list of "name=value" cookies (a signed-in session) for every
  // origin checked.
  const cookies = JSON.parse(process.env.AXE_COOKIES || '[]');
  const origins = [...new Set(urls.map((u) => new URL(u).origin))];
  await context.addCookies(origins.flatMap((url) => cookies.map((c) => {
    const at = c.indexOf('=');
    return { name: c.slice(0, at), value: c.slice(at + 1), url };
  })));
  const page = await context.newPage();
  for (const url of urls) {
    const res = await page.goto(url, { waitUntil: 'load' });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    }));
    const violations = result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
    console.log(JSON.stringify({ url, final: page.url(), status: res.status(), violations }));
  }
} finally {
  await browser.close();
}
