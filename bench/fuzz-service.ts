/**
 * `npm run bench:fuzz`: the fuzz cases of test/service/fuzz_cases.ts, many more of them, against a
 * separate `fewshot serve` process (the shipped model, real limits), watching that process's RSS.
 * Prints one JSON line: cases, statuses, 5xx count, peak RSS (VmHWM), alive, gallery intact.
 *
 * Options: --runs 20000  --seed 1  --model DIR
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEFAULT_MODEL_DIR } from '../src/inference/default_model.js';
import { modelFingerprint } from '../src/service/model.js';
import { packageRoot } from '../src/service/paths.js';
import { ExpectedGallery, fuzzRequest } from '../test/service/fuzz_cases.js';
import { shapePng } from '../test/service/helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const runs = Number(arg('runs', '20000'));
const seed = Number(arg('seed', '1'));
const modelDir = arg('model', DEFAULT_MODEL_DIR);

function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'fewshot-fuzzbench-'));
  const port = 43_000 + Math.floor(Math.random() * 1000);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src/cli/main.ts'), 'serve', '--model', modelDir, '--home', home, '--port', String(port)], {
    env: { ...process.env, FEWSHOT_TOKEN: '', FEWSHOT_READ_TOKEN: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  try {
    for (let t = 0; ; t++) {
      if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (t > 600) throw new Error(`server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const [name, shape] of [['keep-a', 'circle'], ['keep-b', 'bars']] as const) {
      await fetch(`${url}/api/classes/${name}/examples`, { method: 'POST', body: shapePng(shape), headers: { 'content-type': 'image/png' } });
    }
    const classes = async () => (await (await fetch(`${url}/api/classes`)).json()) as { name: string; examples: number }[];
    const expected = new ExpectedGallery(await classes());
    const modelId = modelFingerprint(modelDir);
    const dim = (JSON.parse(readFileSync(join(modelDir, 'fewshot.json'), 'utf8')) as { embeddingDim: number }).embeddingDim;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let peakRss = 0;
    const t0 = performance.now();
    await fc.assert(
      fc.asyncProperty(fuzzRequest(modelId, dim), async (req) => {
        const res = await fetch(`${url}${req.path}`, { method: req.method, headers: req.headers, body: req.body ? new Uint8Array(req.body) : undefined }).catch((e: Error) => {
          failures.push(`${req.label}: ${e.message}`);
          return null;
        });
        if (!res) return;
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) failures.push(`${req.label}: ${res.status}`);
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
        let now: { name: string; examples: number }[] = [];
        if (req.path.includes('/gallery/import') && res.status < 300) now = await classes();
        expected.observe(req, res.status, body, () => now);
        if ((statuses.get(res.status) ?? 0) % 200 === 0) peakRss = Math.max(peakRss, memoryOf(child.pid!).rssMiB);
      }),
      { numRuns: runs, seed },
    );
    const seconds = (performance.now() - t0) / 1000;
    const alive = child.exitCode === null && (await fetch(`${url}/healthz`).then((r) => r.ok, () => false));
    const differences = expected.differences(await classes());
    const mem = memoryOf(child.pid!);
    const result = {
      fuzz: 'service',
      cases: runs,
      seed,
      seconds: +seconds.toFixed(1),
      statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
      server5xx: [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0),
      failures: failures.slice(0, 10),
      acknowledgedWrites: expected.acknowledgedWrites,
      galleryHoldsExactlyWhatWasAcknowledged: differences.length === 0,
      differences: differences.slice(0, 10),
      alive,
      serverPeakRssMiB: +Math.max(peakRss, mem.hwmMiB).toFixed(0),
      serverRssAtEndMiB: +mem.rssMiB.toFixed(0),
    };
    console.log(JSON.stringify(result));
    if (failures.length || !alive || differences.length) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
