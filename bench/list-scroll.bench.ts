// The Packages screen's all-versions list in Chromium with BENCH_PACKAGES synthetic packages
// (default 100,000 → ~160,000 versions) against the same list holding 100 versions, measured in the
// same run: frame intervals while the list is flung continuously, frames that showed a row still
// loading, and how long a jump to a random spot takes to fill. "Stays smooth" = the big list's p95
// frame interval within 1.25× of the small one's, and a jump filled within 100 ms at p95.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openDatabase } from '../electron/services/database/open-database';
import { migrations } from '../electron/services/database/migrations';
import { RegistryRepository } from '../electron/services/registry/registry-repository';
import { launchChromium } from '../test/e2e/support/browser';
import { ProcessGroup } from './support/processes';
import { envNumber, log, ratioOf, writeRows, type BenchRow } from './support/report';
import { summarize } from './support/search-queries';
import { startServe } from './support/servers';
import { populateRegistry } from './support/synthetic-registry';

const packageCount = envNumber('BENCH_PACKAGES', 100_000);
const flingFrames = 600;
const pixelsPerFrame = 260;
const jumps = 40;

interface ScrollFigures {
  versions: number;
  frameIntervals: number[];
  framesWithLoadingRows: number;
  jumpFillMs: number[];
}

async function measure(page: Page, url: string): Promise<ScrollFigures> {
  await page.goto(url);
  await page.getByTestId('version-row').first().waitFor({ timeout: 60_000 });
  return page.evaluate(
    async ({ frames, step, jumpCount }) => {
      const list = document.querySelector<HTMLElement>('[data-testid=versions-list]');
      if (!list) throw new Error('no versions list');
      const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));
      const loadingInView = (): number => {
        const view = list.getBoundingClientRect();
        let count = 0;
        for (const row of list.querySelectorAll('.list-row.placeholder')) {
          const box = row.getBoundingClientRect();
          if (box.bottom > view.top && box.top < view.bottom) count += 1;
        }
        return count;
      };
      const versions = Number(/^(\d+)/.exec(list.getAttribute('aria-label') ?? '')?.[1] ?? 0);
      // A continuous fling, bouncing at the ends: the scroll a user makes with a trackpad.
      const frameIntervals: number[] = [];
      let framesWithLoadingRows = 0;
      let direction = 1;
      let last = await nextFrame();
      for (let frame = 0; frame < frames; frame += 1) {
        if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) direction = -1;
        else if (list.scrollTop <= 0) direction = 1;
        list.scrollTop += direction * step;
        const now = await nextFrame();
        frameIntervals.push(now - last);
        last = now;
        if (loadingInView() > 0) framesWithLoadingRows += 1;
      }
      // Jumps (the scrollbar dragged to a random spot): time until every row in view is filled.
      const jumpFillMs: number[] = [];
      let seed = 12345;
      for (let jump = 0; jump < jumpCount; jump += 1) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const started = performance.now();
        list.scrollTop = (seed / 2147483648) * (list.scrollHeight - list.clientHeight);
        await nextFrame();
        while (loadingInView() > 0 && performance.now() - started < 10_000) await nextFrame();
        jumpFillMs.push(performance.now() - started);
      }
      return { versions, frameIntervals, framesWithLoadingRows, jumpFillMs };
    },
    { frames: flingFrames, step: pixelsPerFrame, jumpCount: jumps },
  );
}

function seed(dataDir: string, packages: number): number {
  mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(path.join(dataDir, 'torsh-depot.sqlite'), migrations);
  try {
    const repository = new RegistryRepository(db);
    const populated = populateRegistry(db, repository, packages, (done) => {
      if (done % 20_000 === 0) log(`list-scroll: ${done} packages`);
    });
    return populated.versions;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const base = process.env.BENCH_WORK_DIR ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'list-scroll-'));
  const group = new ProcessGroup();
  const browser = await launchChromium();
  try {
    log(`list-scroll: publishing ${packageCount} synthetic packages, and a registry of 100 versions for the peer`);
    const bigVersions = seed(path.join(dir, 'big'), packageCount);
    const smallVersions = seed(path.join(dir, 'small'), 62); // 62 synthetic packages ≈ 100 versions
    const results: ScrollFigures[] = [];
    for (const [label, dataDir] of [
      ['small', path.join(dir, 'small')],
      ['big', path.join(dir, 'big')],
    ] as const) {
      const serve = await startServe(group, dataDir);
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      try {
        results.push(await measure(page, `${serve.url}#/packages`));
      } finally {
        await page.close();
        await serve.stop();
      }
      log(`list-scroll: ${label} list measured`);
    }
    const [small, big] = results as [ScrollFigures, ScrollFigures];
    const bigFrames = summarize(big.frameIntervals);
    const smallFrames = summarize(small.frameIntervals);
    const bigJumps = summarize(big.jumpFillMs);
    const smallJumps = summarize(small.jumpFillMs);
    const ratio = ratioOf(bigFrames.p95, smallFrames.p95);
    const peerLabel = `same list, ${small.versions} versions`;
    const rows: BenchRow[] = [
      {
        benchmark: `all-versions list, ${big.versions} versions: p95 frame interval while flung (${flingFrames} frames, ${pixelsPerFrame} px/frame)`,
        ours: bigFrames.p95,
        unit: 'ms',
        peerLabel,
        peer: smallFrames.p95,
        ratio,
        target: 'ratio ≤ 1.25',
        pass: ratio !== null && ratio <= 1.25,
        note: `p50 ${bigFrames.p50.toFixed(1)} ms vs ${smallFrames.p50.toFixed(1)} ms; frames showing a row still loading: ${big.framesWithLoadingRows} of ${flingFrames} (peer ${small.framesWithLoadingRows})`,
      },
      {
        benchmark: `all-versions list, ${big.versions} versions: jump to a random spot until every row in view is filled (p95 of ${jumps})`,
        ours: bigJumps.p95,
        unit: 'ms',
        peerLabel,
        peer: smallJumps.p95,
        ratio: ratioOf(bigJumps.p95, smallJumps.p95),
        target: '≤ 100 ms',
        pass: bigJumps.p95 <= 100,
        note: `p50 ${bigJumps.p50.toFixed(1)} ms; seeded ${bigVersions} and ${smallVersions} versions`,
      },
    ];
    writeRows(rows);
  } finally {
    await browser.close();
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
