/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Headless Chromium (Debian's `chromium`) driven by playwright-core, for the
 * HTML checks: layout measured at a given window width, axe-core's
 * accessibility rules, screenshots. The only module that imports
 * playwright-core or axe-core. The browser never touches the network:
 * background services are off and every page is a local file whose CSP
 * forbids fetches.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Headless Chromium, if installed. */
export const CHROMIUM_BIN = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((bin) => fs.existsSync(bin));

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

/** A running headless Chromium with a fresh profile directory. */
export class HeadlessChromium {
  private constructor(private readonly context: BrowserContext, private readonly profile: string) {}

  static async launch(): Promise<HeadlessChromium> {
    if (CHROMIUM_BIN === undefined) throw new Error('chromium is not installed');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_BIN, headless: true, args: ARGS });
    return new HeadlessChromium(context, profile);
  }

  /** Opens `file` in a window `width` px wide and runs `body` with the page. */
  async withPage<T>(file: string, width: number, body: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    const page = await this.context.newPage();
    try {
      await page.setViewportSize({ width, height: 1000 });
      await page.goto(`file://${file}`);
      return await body(page);
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.context.close();
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

/** What the layout check measures on a page. */
export interface Layout {
  /** Document width beyond the window (0: no horizontal scroll bar). */
  overflowPx: number;
  /** Cells, highest first: text, height of its text in lines of its own line height, and content wider than the cell. */
  cells: { table: string; column: string; text: string; lines: number; overflowPx: number; isCode: boolean }[];
  /** Tables wider than their section, which then scroll inside it. */
  scrolledTables: string[];
}

/** Measures the page's layout (see Layout). */
export async function measureLayout(page: import('playwright-core').Page): Promise<Layout> {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const cells = [...document.querySelectorAll('td, th')].map((cell) => {
      const el = cell as HTMLElement;
      const style = getComputedStyle(el);
      const lineHeight = Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.45;
      // The height of the cell's text, not of the cell (a row is as high as its highest cell).
      const range = document.createRange();
      range.selectNodeContents(el);
      const content = range.getBoundingClientRect().height;
      const table = el.closest('table')!;
      const index = (el as HTMLTableCellElement).cellIndex;
      const head = table.tHead?.rows[0]?.cells[index]?.textContent ?? '';
      return {
        table: table.id, column: head, text: (el.textContent ?? '').slice(0, 80),
        lines: Math.round((content / lineHeight) * 10) / 10,
        overflowPx: el.scrollWidth - el.clientWidth,
        isCode: el.classList.contains('code'),
      };
    }).sort((a, b) => b.lines - a.lines);
    const scrolledTables = [...document.querySelectorAll('.scroll')]
      .filter((box) => box.scrollWidth > box.clientWidth).map((box) => box.querySelector('table')?.id ?? '');
    return { overflowPx: doc.scrollWidth - doc.clientWidth, cells, scrolledTables };
  });
}

/** One axe-core violation: rule, impact, and the offending elements. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (WCAG 2.x A and AA rules, plus best practices) on the page. */
export async function axeViolations(page: import('playwright-core').Page): Promise<AxeViolation[]> {
  // The page's CSP forbids inline scripts it did not ship: inject axe through the DevTools protocol instead.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: {
      id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

export type { Browser };
