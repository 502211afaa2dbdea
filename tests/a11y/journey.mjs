// Walks one part of a user journey in headless Chromium, as a person would: opens pages,
// fills in forms, presses buttons, checks what the page says, and takes screenshots.
// The steps come as JSON in JOURNEY_STEPS; the browser's cookies carry over between
// parts in JOURNEY_STATE (a file); JOURNEY_COOKIES (a JSON list of "name=value") starts it
// with a session made elsewhere. One JSON line per step is printed; the first step that
// fails prints its reason and ends the run with a non-zero exit.
//
// Steps:
//   {"goto": url}                      open a page
//   {"fill": {name: value, ...}}       type into (or choose in) each named field the page
//                                      has; a field the page lacks is skipped; for a
//                                      <select>, "*" picks the first real option
//   {"press": text}                    press the button whose accessible name starts so
//   {"see": text}                      the page's text must include it
//   {"shot": name}                     full-page screenshot to $SCREENSHOTS/<name>.png
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const steps = JSON.parse(process.env.JOURNEY_STEPS || '[]');
const state = process.env.JOURNEY_STATE;
const shots = process.env.SCREENSHOTS;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const context = await browser.newContext({
    storageState: state && existsSync(state) ? state : undefined,
    viewport: { width: 390, height: 844 },
  });
  const cookies = JSON.parse(process.env.JOURNEY_COOKIES || '[]');
  const origins = [...new Set(steps.filter((s) => s.goto).map((s) => new URL(s.goto).origin))];
  await context.addCookies(origins.flatMap((url) => cookies.map((c) => {
    const at = c.indexOf('=');
    return { name: c.slice(0, at), value: c.slice(at + 1), url };
  })));
  const page = await context.newPage();
  for (const step of steps) {
    const [kind, arg] = Object.entries(step)[0];
    try {
      if (kind === 'goto') {
        await page.goto(arg, { waitUntil: 'load' });
      } else if (kind === 'fill') {
        for (const [name, value] of Object.entries(arg)) {
          const field = page.locator(`[name="${name}"]`).first();
          if ((await field.count()) === 0) continue;
          const tag = await field.evaluate((e) => e.tagName.toLowerCase());
          const type = await field.getAttribute('type');
          if (tag === 'select') {
            if (value === '*') {
              const first = await field.locator('option:not([value=""])').first().getAttribute('value');
              await field.selectOption(first);
            } else {
              await field.selectOption(value);
            }
          } else if (type === 'radio' || type === 'checkbox') {
            await page.locator(`[name="${name}"][value="${value}"]`).first().check();
          } else if (type !== 'hidden') {
            await field.fill(value);
          }
        }
      } else if (kind === 'press') {
        await Promise.all([
          page.waitForLoadState('load'),
          page.getByRole('button', { name: new RegExp(`^${arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first().click(),
        ]);
        await page.waitForLoadState('load');
      } else if (kind === 'see') {
        const text = await page.locator('body').innerText();
        if (!text.includes(arg)) throw new Error(`"${arg}" not on ${page.url()}: ${text.slice(0, 800)}`);
      } else if (kind === 'shot') {
        if (shots) {
          mkdirSync(shots, { recursive: true });
          await page.screenshot({ path: `${shots}/${arg}.png`, fullPage: true });
        }
      } else {
        throw new Error(`unknown step ${kind}`);
      }
      console.log(JSON.stringify({ step: kind, ok: true, url: page.url() }));
    } catch (e) {
      console.log(JSON.stringify({ step: kind, arg, ok: false, url: page.url(), error: String(e.message || e) }));
      failed = true;
      break;
    }
  }
  if (state) await context.storageState({ path: state });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
