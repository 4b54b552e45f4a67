/**
 * The one place where tracking touches the data layer (files and image decoding), so that the rest
 * of src/tracking only sees `FileSource` and `Image`.
 */
export { decodeImage, encodePng, type Image } from '../data/image.js';
export { openSource, type FileSource } from '../data/source.js';
