/**
 * Reads a support set from class folders (`root/<class>/<image>`, a directory or .zip): one
 * class per folder, 1..K decoded images each.
 */
import { decodeImage } from '../data/image.js';
import { resolveLayout } from '../data/layout.js';
import { openSource } from '../data/source.js';
import type { SupportClass } from './few_shot_classifier.js';

export async function loadSupportSet(pathOrUrl: string): Promise<SupportClass[]> {
  const source = await openSource(pathOrUrl);
  const layout = resolveLayout(source, 'class-folders');
  const classes: SupportClass[] = layout.classNames.map((label) => ({ label, images: [] }));
  for (const f of layout.files) {
    (classes[f.label]!.images as unknown[]).push(decodeImage(source.read(f.path), `${source.location}/${f.path}`));
  }
  const empty = classes.find((c) => c.images.length === 0);
  if (empty) throw new Error(`support class '${empty.label}' in ${pathOrUrl} has no images`);
  if (classes.length === 0) throw new Error(`the support set ${pathOrUrl} has no class folders`);
  return classes;
}
