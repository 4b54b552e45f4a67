/**
 * Axis-aligned boxes in frame pixels. Internally a box is 0-based (`x`,`y` = top-left corner of the
 * first covered pixel), as the crops and the tracker work; OTB files are 1-based and are converted
 * on read (`fromOtb`) and on write (`toOtb`).
 */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function boxCenter(b: Box): [number, number] {
  return [b.x + b.w / 2, b.y + b.h / 2];
}

export function boxFromCenter(cx: number, cy: number, w: number, h: number): Box {
  return { x: cx - w / 2, y: cy - h / 2, w, h };
}

/** OTB ground truth (1-based top-left) to an internal 0-based box. */
export function fromOtb(x: number, y: number, w: number, h: number): Box {
  return { x: x - 1, y: y - 1, w, h };
}

/** Internal box to the OTB line format `x,y,w,h` (1-based). */
export function toOtb(b: Box): string {
  const r = (v: number) => Math.round(v * 100) / 100;
  return `${r(b.x + 1)},${r(b.y + 1)},${r(b.w)},${r(b.h)}`;
}

/** Intersection over union; 0 when either box is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/** Distance between box centres in pixels (OTB "location error"). */
export function centerError(a: Box, b: Box): number {
  const [ax, ay] = boxCenter(a);
  const [bx, by] = boxCenter(b);
  return Math.hypot(ax - bx, ay - by);
}
