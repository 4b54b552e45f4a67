/**
 * How labelled images are arranged in a source:
 * - "class-folders": `root/<class>/<image>` (the root may be wrapped in one or more folders,
 *   e.g. `att_faces/s1/1.pgm` in a zip); class = the folder, group = the class itself.
 * - "omniglot": `[images_background|images_evaluation/]<alphabet>/<character>/<image>`;
 *   class = `alphabet/character`, group = alphabet.
 * "auto" picks omniglot when an `images_background` / `images_evaluation` folder is present or
 * every image sits two folders deep, class-folders when every image sits one folder deep.
 */
import { type FileSource } from './source.js';

export type LayoutName = 'auto' | 'omniglot' | 'class-folders';

/** Extensions of files treated as images (decoding itself goes by magic bytes). */
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'pgm', 'ppm', 'pnm']);

export function isImagePath(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && IMAGE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

export interface LabelledFile {
  path: string;
  /** Index into classNames. */
  label: number;
}

export interface ResolvedLayout {
  layout: 'omniglot' | 'class-folders';
  /** Sorted class names. */
  classNames: string[];
  /** Group of each class (alphabet for Omniglot, the class itself for class folders). */
  classGroups: string[];
  /** Image files sorted by path, with their class index. */
  files: LabelledFile[];
}

const OMNIGLOT_SET = /^images_(background|evaluation)$/;

/** Reads the layout from the listing (no image is decoded). */
export function resolveLayout(source: FileSource, layout: LayoutName = 'auto'): ResolvedLayout {
  const images = source.list().filter(isImagePath);
  if (images.length === 0) throw new Error(`${source.location}: holds no images (.png, .jpg, .pgm)`);
  const split = images.map((p) => p.split('/'));

  // Omniglot with its set folder(s): cut everything up to and including images_<set>/.
  const setIndex = split[0]!.findIndex((part) => OMNIGLOT_SET.test(part));
  const hasOmniglotSet = split.some((parts) => parts.some((part) => OMNIGLOT_SET.test(part)));
  let relative: string[][];
  let prefixOf: (i: number) => string;
  if (hasOmniglotSet && layout !== 'class-folders') {
    relative = split.map((parts, i) => {
      const k = parts.findIndex((part) => OMNIGLOT_SET.test(part));
      if (k < 0 || (setIndex >= 0 && k !== setIndex)) {
        throw new Error(`${source.location}: ${images[i]} is not inside an images_background/ or images_evaluation/ folder like the other images`);
      }
      return parts.slice(k + 1);
    });
    prefixOf = (i) => split[i]!.slice(0, split[i]!.length - relative[i]!.length).join('/');
  } else {
    // Strip wrapper folders shared by every image (att_faces/, dataset3/ ...) while they leave a class level.
    let strip = 0;
    const minDepth = Math.min(...split.map((p) => p.length));
    while (strip < minDepth - 2 && split.every((p) => p[strip] === split[0]![strip])) strip++;
    relative = split.map((p) => p.slice(strip));
    prefixOf = () => split[0]!.slice(0, strip).join('/');
  }

  const depths = new Set(relative.map((p) => p.length));
  let chosen: 'omniglot' | 'class-folders';
  if (layout === 'auto') {
    if (hasOmniglotSet || (depths.size === 1 && depths.has(3))) chosen = 'omniglot';
    else if (depths.size === 1 && depths.has(2)) chosen = 'class-folders';
    else if (depths.size === 1 && depths.has(1)) {
      throw new Error(`${source.location}: the images are not in class folders (e.g. ${images[0]}): put each class's images in a folder of its own, <class>/<image>`);
    } else {
      const example = (d: number) => images[relative.findIndex((p) => p.length === d)];
      throw new Error(`${source.location}: cannot tell the layout: images sit at different depths (${[...depths].sort().map((d) => `${example(d)}`).join(', ')}); expected <class>/<image> or <alphabet>/<character>/<image>`);
    }
  } else {
    chosen = layout;
  }

  const wantDepth = chosen === 'omniglot' ? 3 : 2;
  const what = chosen === 'omniglot' ? '<alphabet>/<character>/<image>' : '<class>/<image>';
  const classOf = new Map<string, string>(); // class name -> group
  const fileClass: string[] = [];
  for (let i = 0; i < images.length; i++) {
    const parts = relative[i]!;
    if (parts.length !== wantDepth) {
      throw new Error(`${source.location}: ${images[i]} does not fit the ${chosen} layout (${what})`);
    }
    const cls = parts.slice(0, -1).join('/');
    classOf.set(cls, parts[0]!);
    fileClass.push(cls);
  }

  // A class folder that holds no image at all is almost always a mistake (wrong extension, empty copy).
  if (source.listDirectories) {
    const prefixes = new Set(images.map((_, i) => prefixOf(i)));
    for (const dir of source.listDirectories()) {
      for (const prefix of prefixes) {
        if (prefix && !dir.startsWith(prefix + '/')) continue;
        const rel = prefix ? dir.slice(prefix.length + 1) : dir;
        const parts = rel.split('/');
        if (parts.length !== wantDepth - 1) continue;
        if (!classOf.has(rel)) throw new Error(`${source.location}: class folder ${dir} holds no images`);
      }
    }
  }

  const classNames = [...classOf.keys()].sort();
  const index = new Map(classNames.map((c, i) => [c, i]));
  const classGroups = classNames.map((c) => classOf.get(c)!);
  const files = images.map((path, i) => ({ path, label: index.get(fileClass[i]!)! }));
  return { layout: chosen, classNames, classGroups, files };
}
