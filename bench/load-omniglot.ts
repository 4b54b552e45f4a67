/**
 * How long loading all 19,280 Omniglot background images takes, straight from the zip, at the
 * koch (105x105) and conv4 (28x28) model sizes. Usage: npm run bench:load [-- path/to/images_background.zip]
 * Loading is single-threaded, so CPU time is the figure to compare when the machine is busy.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadImageDataset } from '../src/data/dataset.js';
import { openSource } from '../src/data/source.js';

const zip = resolve(process.argv[2] ?? '../shared/data/omniglot/images_background.zip');
if (!existsSync(zip)) {
  console.error(`${zip} not found: pass the path of images_background.zip`);
  process.exit(1);
}

const t0 = performance.now();
const source = await openSource(zip);
const files = source.list();
const tOpen = performance.now() - t0;
console.log(`opened ${zip}: ${files.length} files listed in ${tOpen.toFixed(0)} ms`);

for (const size of [105, 28]) {
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const ds = await loadImageDataset(zip, { layout: 'omniglot', preprocess: { height: size, width: size, channels: 1, invert: true } });
  const s = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const mb = ds.pixels.byteLength / 2 ** 20;
  console.log(`${size}x${size}: ${ds.size} images, ${ds.numClasses} classes, ${ds.groups().length} alphabets in ${s.toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU ` +
    `(${((s * 1e6) / ds.size).toFixed(0)} us/image, ${mb.toFixed(1)} MB uint8)`);
}
