/**
 * The HTML report in a real browser (headless Chromium via playwright-core): it loads with no
 * error, no network request and no CSP violation, the chart draws, the session filters work, a
 * click opens a ladder and a click on an arrow shows its log line. Saves test/out/html-report.png.
 *
 * Needs Debian's chromium at /usr/bin/chromium (CI: apt-get install -y chromium); skipped without it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { redactReport } from '../../src/report/redact.js';
import { hostileReport, secretReport, SECRETS } from '../report/fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(import.meta.dirname, '..', 'out');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!existsSync(CHROMIUM))('HTML report in headless Chromium', () => {
  const report = redactReport(secretReport(hostileReport()), {
    ips: false,
    key: Buffer.from('browser-test'),
  });
  const url = pathToFileURL(join(OUT, 'report.html')).href;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  const rows = () => page.locator('#list .row');
  /** wait until the list shows n rows, each containing `has` */
  const rowsAre = (n: number, has = '') =>
    expect
      .poll(async () => {
        const shown = await rows().allTextContents();
        return shown.length === n && shown.every((t) => t.includes(has));
      })
      .toBe(true);
  const indexOf = (user: string) => report.findings.findIndex((f) => f.keys.user?.[0] === user);

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'report.html'), renderHtml(report, { redacted: true }));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    await page.goto(url);
    await page.waitForSelector('#list .row');
  });

  it('loads with no script error, no CSP violation and no request but the file itself', async () => {
    expect(problems).toEqual([]);
    expect(new Set(requests)).toEqual(new Set([url]));
    expect(await page.title()).toMatch(/^logdiag: \d+ of 80 sessions failed, mostly sbc-throttling$/);
    const text = await page.locator('body').innerText();
    for (const s of SECRETS) expect(text).not.toContain(s);
  });

  it('draws the timeline chart', async () => {
    const bars = page.locator('#timeline rect.bar');
    expect(await bars.count()).toBeGreaterThan(10);
    const box = await bars.first().boundingBox();
    expect(box!.height).toBeGreaterThan(0);
    expect(box!.width).toBeGreaterThan(0);
    const chart = await page.locator('#timeline').boundingBox();
    expect(chart!.width).toBeGreaterThan(600);
    expect(await page.locator('#timeline polyline.onset').count()).toBe(1);
  });

  it('filters sessions by text and by cause', async () => {
    expect(await rows().count()).toBe(report.findings.length);
    await page.fill('#q', 'agent-013');
    await rowsAre(1, 'agent-013');
    expect(await page.locator('#count').innerText()).toBe(`1 of ${report.findings.length} sessions`);
    // by Call-ID, by log text, and by a pseudonym (correlation still works after redaction)
    await page.fill('#q', 'c000001x');
    await rowsAre(1, 'agent-001');
    await page.fill('#q', 'ERR_INVALID_CHAR');
    await rowsAre(0);
    await page.fill('#q', 'Connection reset by peer');
    await rowsAre(8, 'idle-timeout');
    await page.fill('#q', '«secret:');
    await rowsAre(1, 'agent-901');
    await page.fill('#q', '');
    await rowsAre(report.findings.length);
    await page.selectOption('#cause', { label: 'edge-rate-limit (9)' });
    await rowsAre(9, 'edge-rate-limit');
    const chips = await page.locator('#list .row .chip').allInnerTexts();
    expect(new Set(chips)).toEqual(new Set(['edge-rate-limit']));
    await page.fill('#q', 'agent-013');
    await rowsAre(1, 'agent-013');
    await page.fill('#q', 'agent-001');
    await rowsAre(0);
  });

  it('lists the sessions of a clicked bar (cause and time window)', async () => {
    const bar = page.locator('#timeline rect.bar').first();
    const cause = Number(await bar.getAttribute('data-c'));
    await bar.click();
    await expect.poll(() => page.locator('#window').isVisible()).toBe(true);
    const n = await rows().count();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(report.findings.length);
    const chips = new Set(await page.locator('#list .row .chip').allInnerTexts());
    expect(chips.size).toBe(1);
    expect(await page.locator('#cause').inputValue()).toBe(String(cause));
    await page.click('#window-clear');
    await expect.poll(() => page.locator('#window').isVisible()).toBe(false);
  });

  it('a click on a session shows its ladder; a click on an arrow shows its evidence line', async () => {
    const i = indexOf('agent-014'); // an edge-rate-limit session: LB note, LB→client 503, client HTTP 503
    const f = report.findings[i];
    await page.click(`#list .row[data-i="${i}"]`);
    const ladder = page.locator('#detail svg.ladder');
    await ladder.waitFor();
    expect(await ladder.locator('.step').count()).toBe(f.evidence.length);
    expect(await ladder.locator('line.arrow').count()).toBeGreaterThanOrEqual(2);
    expect(await ladder.locator('.head text').allTextContents()).toEqual(['Client agent-014', 'LB', 'SBC']);
    const step = ladder.locator('.step[data-j="1"]');
    expect(await step.locator('title').textContent()).toBe(
      `${f.evidence[1].path}:${f.evidence[1].line} [lb]\n${f.evidence[1].text}`,
    );
    await step.click();
    const pick = await page.locator('#pick').innerText();
    expect(pick).toContain(`${f.evidence[1].path}:${f.evidence[1].line}`);
    expect(pick).toContain(f.evidence[1].text);
    expect(await page.evaluate('location.hash')).toBe(`#e-${i}-1`);
    expect(await page.locator(`#e-${i}-1`).getAttribute('class')).toBe('sel');
    expect(await page.locator(`#e-${i}-1 pre`).innerText()).toBe(f.evidence[1].text);
  });

  it('opens the session and line an anchor names', async () => {
    const i = indexOf('agent-022');
    await page.goto(`${url}#e-${i}-2`);
    await page.locator('#detail svg.ladder').waitFor();
    expect(await page.locator('#detail h3').innerText()).toContain('agent-022');
    expect(await page.locator(`#e-${i}-2`).getAttribute('class')).toBe('sel');
    expect(await page.locator(`#step-${i}-2`).getAttribute('class')).toContain('sel');
  });

  it('shows hostile log text as text', async () => {
    const i = indexOf('agent-900');
    await page.click(`#list .row[data-i="${i}"]`);
    await page.locator('#detail svg.ladder').waitFor();
    const texts = await page.locator('#detail .evidence pre').allInnerTexts();
    expect(texts[0]).toBe('<script>window.__xss = 1</script> REGISTER sip:agent-900@example.com');
    expect(texts[1]).toBe('<img src=x onerror="window.__xss=2"> closed');
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.locator('#detail img, #detail script').count()).toBe(0);
  });

  it('saves a screenshot of a session ladder', async () => {
    const i = indexOf('agent-022'); // idle timeout: 101 for 60 s, reset at the SBC, 1006 at the client
    await page.click(`#list .row[data-i="${i}"]`);
    await page.locator(`#step-${i}-1`).click();
    await page.screenshot({ path: join(OUT, 'html-report.png'), fullPage: true });
    expect(existsSync(join(OUT, 'html-report.png'))).toBe(true);
    expect(problems).toEqual([]);
  });
});
