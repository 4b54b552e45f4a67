import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { openSource, ZipSource, isJunkPath } from '../../src/data/source.js';
import { tempDir, writeTree, writeZip } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

function sampleFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let c = 0; c < 3; c++) for (let i = 0; i < 4; i++) files[`root/class${c}/img${i}.bin`] = enc(`class ${c} image ${i} `.repeat(c + i + 1));
  return files;
}

test('directory and zip sources list and read the same files, junk left out', async () => {
  const files = sampleFiles();
  const junk = { '__MACOSX/root/class0/._img0.bin': enc('x'), 'root/.DS_Store': enc('x'), 'root/class1/._img1.bin': enc('x') };
  const dir = writeTree({ ...files, ...junk });
  const zip = writeZip({ ...files, ...junk });
  const a = await openSource(dir);
  const b = await openSource(zip);
  const expected = Object.keys(files).sort();
  assert.deepEqual(a.list(), expected);
  assert.deepEqual(b.list(), expected);
  for (const p of expected) {
    assert.deepEqual(a.read(p), files[p]);
    assert.deepEqual(b.read(p), files[p]);
  }
  assert.deepEqual(a.listDirectories!(), ['root', 'root/class0', 'root/class1', 'root/class2']);
  assert.deepEqual(b.listDirectories!(), ['root', 'root/class0', 'root/class1', 'root/class2']);
  assert.ok(isJunkPath('a/__MACOSX/b') && isJunkPath('x/.DS_Store') && !isJunkPath('a/b.png'));
});

test('stored (uncompressed) zip entries are read too', async () => {
  const zip = zipSync({ 'a/b.txt': enc('plain') }, { level: 0 });
  const src = new ZipSource(zip, 'mem.zip');
  assert.deepEqual(src.read('a/b.txt'), enc('plain'));
});

test('zip entries are inflated lazily: a corrupt entry fails only when read, naming it', async () => {
  const files = { 'x/good.bin': enc('good '.repeat(50)), 'x/bad.bin': enc('bad '.repeat(50)) };
  const zip = zipSync(files, { level: 6 });
  // Find the bad entry's data through its local header name and damage it.
  const name = enc('x/bad.bin');
  let at = -1;
  for (let i = 0; i < zip.length - name.length; i++) if (name.every((c, k) => zip[i + k] === c)) { at = i; break; }
  zip[at + name.length + 3] ^= 0x55;
  const src = new ZipSource(zip, 'damaged.zip');
  assert.deepEqual(src.read('x/good.bin'), files['x/good.bin']);
  assert.throws(() => src.read('x/bad.bin'), /damaged\.zip: x\/bad\.bin: corrupt zip entry/);
  assert.throws(() => src.read('x/none.bin'), /damaged\.zip: no file x\/none\.bin/);
});

test('missing paths, non-zip files and truncated zips give clear errors', async () => {
  const dir = tempDir();
  await assert.rejects(openSource(join(dir, 'nope')), /nope: no such file or directory/);
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  await assert.rejects(openSource(join(dir, 'notes.txt')), /notes\.txt: not a directory or a \.zip archive/);
  const zip = writeZip(sampleFiles());
  const bytes = readFileSync(zip);
  writeFileSync(join(dir, 'cut.zip'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(openSource(join(dir, 'cut.zip')), /cut\.zip: corrupt zip archive/);
  const src = await openSource(writeTree({ 'a/b.bin': enc('1') }));
  assert.throws(() => src.read('a/missing.bin'), /a\/missing\.bin: no such file/);
});

test('an http URL of a zip is fetched; HTTP errors are reported', async () => {
  const files = sampleFiles();
  const zip = zipSync(files);
  const server = createServer((req, res) => {
    if (req.url === '/data.zip') { res.writeHead(200, { 'content-type': 'application/zip' }); res.end(zip); }
    else if (req.url === '/page') { res.writeHead(200); res.end('<html>not a zip</html>'); }
    else { res.writeHead(404); res.end('missing'); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const src = await openSource(`http://127.0.0.1:${port}/data.zip`);
    assert.deepEqual(src.list(), Object.keys(files).sort());
    assert.deepEqual(src.read('root/class2/img3.bin'), files['root/class2/img3.bin']);
    await assert.rejects(openSource(`http://127.0.0.1:${port}/gone.zip`), /gone\.zip: download failed: HTTP 404/);
    await assert.rejects(openSource(`http://127.0.0.1:${port}/page`), /page: the download is not a \.zip archive/);
    await assert.rejects(openSource(`http://127.0.0.1:${port}/data.zip`, { maxDownloadBytes: 10 }), /more than the limit/);
  } finally {
    server.close();
  }
});
