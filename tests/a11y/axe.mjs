// Opens each URL given on the command line in headless Chromium, runs axe-core with the
// WCAG 2.0, 2.1 and 2.2 A and AA rules, then checks reflow (WCAG 1.4.10: at 320 CSS
// pixels wide, as at 400% zoom, nothing makes the page scroll sideways; a wide table may
// scroll inside its own region), and prints one JSON line per page:
// {"url": …, "final": the URL after any redirect, "status": …,
//  "violations": [{"id", "impact", "help", "nodes": [target…]}],
//  "reflow": null, or {"width": the page's width in CSS pixels, "wider": [element…]}}.
// CHROMIUM names the browser binary; AXE_COOKIES (optional) carries a session.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// A desktop window, and a phone's width (or a 1280-pixel window at 400% zoom).
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 320, height: 640 };
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
  await page.setViewportSize(WIDE);
  for (const url of urls) {
    const res = await page.goto(url, { waitUntil: 'load' });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    }));
    const violations = result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
    await page.setViewportSize(NARROW);
    const reflow = await page.evaluate(() => {
      const root = document.documentElement;
      if (root.scrollWidth <= root.clientWidth) return null;
      // The innermost elements that stick out past the right edge: their box does, or
      // their own text overflows a box that does not clip it (a long address, say).
      const edge = root.clientWidth;
      const out = (e) => e.getBoundingClientRect().right > edge + 1
        || (e.children.length === 0 && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0
          && getComputedStyle(e).overflowX === 'visible');
      const name = (e) => e.tagName.toLowerCase() + (e.id ? `#${e.id}` : '')
        + [...e.classList].slice(0, 2).map((c) => `.${c}`).join('')
        + ` "${(e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
      const wider = [...document.body.querySelectorAll('*')]
        .filter((e) => out(e) && ![...e.children].some(out))
        .slice(0, 5)
        .map(name);
      return { width: root.scrollWidth, wider };
    });
    await page.setViewportSize(WIDE);
    console.log(JSON.stringify({ url, final: page.url(), status: res.status(), violations, reflow }));
  }
} finally {
  await browser.close();
}
