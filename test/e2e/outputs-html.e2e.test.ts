/**
 * Every HTML page the commands print (report overview, --by, every
 * --report definition, diff, runs, check), checked as browsers and people
 * meet it: the Nu HTML Checker finds no error or warning; axe-core in
 * headless Chromium finds no serious or critical violation; and at 1,280
 * and 1,920 px the layout holds: no horizontal scroll bar, no cell taller
 * than a few lines, no text spilling out of its cell, codes on one line.
 * Set IMGAUDIT_SCREENSHOTS=DIR to keep a screenshot of each page there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessChromium, axeViolations, measureLayout } from '../support/browser.js';
import { requireTool } from '../support/external-tools.js';
import { nuCheck } from '../support/nu-checker.js';
import { hasQemu } from '../support/qemu.js';
import { type OutputsEstate, buildOutputsEstate, definitionNames, outputsOf } from './outputs-estate.js';
import { requireBuild } from './scan-support.js';

/** Lines a cell may take: a long path wraps at its separators onto a few lines, never more. */
const MAX_CELL_LINES = 4;
const WIDTHS = [1280, 1920];

describe.skipIf(!hasQemu)('HTML pages, checked by browsers and validators', () => {
  let estate: OutputsEstate;
  let files: string[];
  beforeAll(() => {
    requireBuild();
    estate = buildOutputsEstate();
    files = outputsOf(estate, 'html').map((output) => {
      const file = path.join(estate.dir, output.name);
      fs.writeFileSync(file, output.text);
      return file;
    });
  }, 300_000);
  afterAll(() => fs.rmSync(estate.dir, { recursive: true, force: true }));

  it('the Nu HTML Checker finds no error and no warning on any page', (context) => {
    requireTool(context, 'java');
    // The overview, five --by tables, every other definition, diff, runs, check.
    expect(files.length).toBe(1 + 5 + definitionNames().filter((name) => !name.startsWith('by-')).length + 3);
    expect(nuCheck(files)).toEqual([]);
  }, 300_000);

  it('every page has a title of its own and a heading for each section', () => {
    for (const file of files) {
      const page = fs.readFileSync(file, 'utf8');
      const title = /<title>([^<]*)<\/title>/.exec(page)![1]!;
      expect(title, path.basename(file)).toMatch(/^imgaudit [a-z]+/);
      expect(title).not.toBe('imgaudit');
      const sections = page.match(/<section\b/g)!.length;
      expect(page.match(/<section[^>]*>\n<h2>/g)?.length ?? 0, path.basename(file)).toBe(sections);
    }
  });

  it('axe-core finds no serious or critical violation, and layout holds at 1,280 and 1,920 px', async (context) => {
    requireTool(context, 'chromium');
    const shots = process.env.IMGAUDIT_SCREENSHOTS;
    const browser = await HeadlessChromium.launch();
    const problems: string[] = [];
    const scrolled: string[] = [];
    try {
      for (const file of files) {
        const name = path.basename(file);
        for (const width of WIDTHS) {
          await browser.withPage(file, width, async (page) => {
            if (width === WIDTHS[0]) {
              for (const v of await axeViolations(page)) {
                if (v.impact === 'serious' || v.impact === 'critical') problems.push(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.targets.slice(0, 3).join('; ')})`);
              }
            }
            const layout = await measureLayout(page);
            for (const table of layout.scrolledTables) scrolled.push(`${name} @${width}: ${table}`);
            if (layout.overflowPx > 0) problems.push(`${name} @${width}: page ${layout.overflowPx} px wider than the window`);
            for (const cell of layout.cells) {
              const where = `${name} @${width}: ${cell.table} ${cell.column} "${cell.text}"`;
              if (cell.lines > MAX_CELL_LINES + 0.5) problems.push(`${where}: ${cell.lines} lines`);
              if (cell.isCode && cell.lines > 1.5) problems.push(`${where}: a code broken over ${cell.lines} lines`);
              if (cell.overflowPx > 1) problems.push(`${where}: text ${cell.overflowPx} px wider than its cell`);
            }
            if (shots !== undefined) {
              fs.mkdirSync(shots, { recursive: true });
              await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
            }
          });
        }
      }
    } finally {
      await browser.close();
    }
    // Tables wider than the window scroll in their own box (allowed; listed for the record).
    if (scrolled.length > 0) console.info(`tables scrolling sideways in their box:\n  ${scrolled.join('\n  ')}`);
    expect(problems).toEqual([]);
  }, 600_000);
});
