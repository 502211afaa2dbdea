// Opens each URL given on the command line in headless Chromium, runs axe-core with the
// WCAG 2.0, 2.1 and 2.2 A and AA rules, then checks reflow (WCAG 1.4.10: at 320 CSS
// pixels wide, as at 400% zoom, nothing makes the page scroll sideways; a wide table may
// scroll inside its own region) and keyboard use ([tabThrough]), and prints one JSON line
// per page:
// {"url": …, "final": the URL after any redirect, "status": …,
//  "violations": [{"id", "impact", "help", "nodes": [target…]}],
//  "reflow": null, or {"width": the page's width in CSS pixels, "wider": [element…]},
//  "keyboard": [what failed…]}.
// CHROMIUM names the browser binary; AXE_COOKIES (optional) carries a session.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// A desktop window, and a phone's width (or a 1280-pixel window at 400% zoom).
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 320, height: 640 };
// Keyboard use, as a person with only a keyboard: Tab from the top of the page to the end.
// Each element that takes focus must show it (WCAG 2.4.7: its own look, or its label's,
// which GOV.UK checkboxes and radios use, changes) and be on screen (2.4.11); Tab must
// reach every element that can take focus (one stop per group of radios) and then leave
// the page (2.1.2, no keyboard trap). Returns what failed, as sentences.
async function tabThrough(page) {
  const describe = `(e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.name ? '[name=' + e.name + ']' : '')
    + ' "' + (e.textContent || e.value || e.getAttribute('aria-label') || '').trim()
      .replace(/\\s+/g, ' ').slice(0, 40) + '"'`;
  const stops = await page.evaluate((describe) => {
    window.describeStop = eval(describe);
    document.activeElement?.blur();
    window.scrollTo(0, 0);
    const radios = new Set();
    const candidates = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
      // Shown: not hidden, nor inside a closed disclosure.
      .filter((e) => e.tabIndex >= 0 && !e.disabled && e.type !== 'hidden'
        && e.checkVisibility({ visibilityProperty: true }))
      .filter((e) => e.type !== 'radio' || (!radios.has(e.name) && radios.add(e.name)));
    candidates.forEach((e) => { e.dataset.tabCandidate = ''; });
    return candidates.length;
  }, describe);
  const problems = [];
  const reached = [];
  for (let press = 0; press <= stops + 5; press += 1) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body || e === document.documentElement) return null;
      // Each element counted once, however alike it is to another.
      if (!e.dataset.tabStop) {
        window.tabStops = (window.tabStops || 0) + 1;
        e.dataset.tabStop = String(window.tabStops);
      }
      // What a focus style can change; an outline only when it can be seen (GOV.UK adds a
      // transparent one for forced-colour modes, beside what shows).
      const look = (el) => ['', '::before', '::after'].map((p) => {
        const s = getComputedStyle(el, p || null);
        const outline = s.outlineStyle === 'none' || /rgba\(.*, 0\)$|transparent/.test(s.outlineColor)
          ? '' : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`;
        return [outline, s.boxShadow, s.backgroundColor, s.color, s.textDecorationLine,
          s.borderTopColor, s.borderTopWidth].join(' ');
      }).join('|');
      // A control drawn by its label (GOV.UK's checkboxes and radios: the input itself is
      // invisible) shows focus on the label or nowhere.
      const hidden = getComputedStyle(e).opacity === '0' && e.labels && e.labels.length > 0;
      const shown = hidden ? [...e.labels] : [e, ...(e.labels ? [...e.labels] : [])];
      const focused = shown.map(look).join('#');
      e.blur();
      const blurred = shown.map(look).join('#');
      e.focus();
      const r = (e.labels && e.labels[0] && e.getBoundingClientRect().width < 2 ? e.labels[0] : e)
        .getBoundingClientRect();
      const onScreen = r.bottom > 0 && r.top < window.innerHeight && r.right > 0
        && r.left < window.innerWidth;
      return {
        stop: e.dataset.tabStop, name: window.describeStop(e), shown: focused !== blurred, onScreen,
      };
    });
    // Out of the page (to the browser), or round to its first element again, as Chromium
    // sometimes goes: the whole order was walked. (A script that sends focus round from
    // the last element would pass here; the pages have no scripts.)
    if (now === null || now.stop === reached[0]) {
      const missed = await page.evaluate(() => [...document.querySelectorAll('[data-tab-candidate]')]
        .filter((e) => !e.dataset.tabStop
          && !(e.type === 'radio' && document.querySelector(`[name="${e.name}"][data-tab-stop]`)))
        .map(window.describeStop));
      if (missed.length > 0) {
        problems.push(`2.1.1 Keyboard: Tab never reached ${missed.length} of the ${stops} elements that can take focus: ${missed.slice(0, 5).join(', ')}`);
      }
      return problems;
    }
    if (reached.includes(now.stop)) {
      problems.push(`2.1.2 No Keyboard Trap: Tab went back to ${now.name} before the end of the page`);
      return problems;
    }
    reached.push(now.stop);
    if (!now.shown) problems.push(`2.4.7 Focus Visible: ${now.name} shows no focus`);
    if (!now.onScreen) problems.push(`2.4.11 Focus Not Obscured: ${now.name} is off screen when focused`);
  }
  problems.push(`2.1.2 No Keyboard Trap: Tab did not leave the page after ${stops + 5} presses`);
  return problems;
}

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
    const keyboard = await tabThrough(page);
    console.log(JSON.stringify({
      url, final: page.url(), status: res?.status() ?? null, violations, reflow, keyboard,
    }));
  }
} finally {
  await browser.close();
}
