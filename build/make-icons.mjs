// Draws the Torsh Depot icons (an orange isometric box, the "depot", on a deep-blue rounded square)
// and writes them as PNG with a small hand-written encoder: pure Node, no image libraries.
// Run: node build/make-icons.mjs   (the generated PNGs are kept in the repository)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------- PNG encoding ----------

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** RGBA, 8 bits per channel, no interlace; every scanline uses filter 0 (None). */
export function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: truecolour with alpha
  header[10] = 0; // compression
  header[11] = 0; // filter method
  header[12] = 0; // interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------- Geometry (unit square, y down) ----------

const hex = (value) => [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16));

// The box: three faces of an isometric cube, shrunk slightly toward their centres so thin seams
// of the background show between them and the shape reads at 16 px.
const T = [0.5, 0.2], L = [0.22, 0.36], R = [0.78, 0.36], C = [0.5, 0.52];
const BL = [0.22, 0.68], BR = [0.78, 0.68], B = [0.5, 0.84];

function shrink(points, amount) {
  const cx = points.reduce((sum, p) => sum + p[0], 0) / points.length;
  const cy = points.reduce((sum, p) => sum + p[1], 0) / points.length;
  return points.map(([x, y]) => [x + (cx - x) * amount, y + (cy - y) * amount]);
}

const lerp = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];

const faces = {
  top: shrink([T, R, C, L], 0.04),
  left: shrink([L, C, B, BL], 0.04),
  right: shrink([C, R, BR, B], 0.04),
};
// Packing tape across the lid and down the front-left face.
const tape = [
  [lerp(L, T, 0.42), lerp(L, T, 0.58), lerp(C, R, 0.58), lerp(C, R, 0.42)],
  [lerp(C, R, 0.42), lerp(C, R, 0.58), lerp(B, BR, 0.58), lerp(B, BR, 0.42)],
];

function insideConvex(points, x, y) {
  let sign = 0;
  for (let i = 0; i < points.length; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[(i + 1) % points.length];
    const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (cross !== 0) {
      if (sign === 0) sign = Math.sign(cross);
      else if (Math.sign(cross) !== sign) return false;
    }
  }
  return true;
}

function insideRoundedSquare(x, y, margin, radius) {
  const half = 0.5 - margin;
  const qx = Math.abs(x - 0.5) - (half - radius);
  const qy = Math.abs(y - 0.5) - (half - radius);
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
  return outside <= 0;
}

// ---------- Painters: colour (RGBA 0..1) of one sample point ----------

const colours = {
  backgroundTop: hex('#2b3d72'),
  backgroundBottom: hex('#141c36'),
  top: hex('#ffc56b'),
  left: hex('#f28c28'),
  right: hex('#c4601a'),
  tapeTop: hex('#e0a24a'),
  tapeSide: hex('#d9741c'),
};

function rgb(colour, alpha = 1) {
  return [colour[0] / 255, colour[1] / 255, colour[2] / 255, alpha];
}

function boxColour(x, y) {
  if (insideConvex(faces.top, x, y)) return insideConvex(tape[0], x, y) ? rgb(colours.tapeTop) : rgb(colours.top);
  if (insideConvex(faces.right, x, y)) return insideConvex(tape[1], x, y) ? rgb(colours.tapeSide) : rgb(colours.right);
  if (insideConvex(faces.left, x, y)) return rgb(colours.left);
  return null;
}

/**
 * The app icon: the box on a rounded square with a vertical gradient. Small sizes (menus, tray,
 * taskbar) use a tighter margin and a bigger box so the shape still reads.
 */
function appIcon(size) {
  const small = size <= 32;
  const margin = small ? 0.02 : 0.06;
  const scale = small ? 0.95 : 0.78;
  return (x, y) => {
    if (!insideRoundedSquare(x, y, margin, small ? 0.16 : 0.19)) return [0, 0, 0, 0];
    const box = boxColour(0.5 + (x - 0.5) / scale, 0.52 + (y - 0.5) / scale);
    if (box) return box;
    const t = Math.min(Math.max((y - margin) / (1 - 2 * margin), 0), 1);
    return rgb(colours.backgroundTop.map((top, i) => top + (colours.backgroundBottom[i] - top) * t));
  };
}

/** macOS menu-bar template: black with alpha only; the faces differ by opacity. */
function templateIcon(x, y) {
  const scale = 1.1;
  const u = 0.5 + (x - 0.5) / scale;
  const v = 0.52 + (y - 0.5) / scale;
  if (insideConvex(faces.top, u, v)) return [0, 0, 0, 1];
  if (insideConvex(faces.left, u, v)) return [0, 0, 0, 0.78];
  if (insideConvex(faces.right, u, v)) return [0, 0, 0, 0.55];
  return [0, 0, 0, 0];
}

/** Renders with n×n supersampling, averaging in premultiplied alpha. */
function render(size, painter) {
  const samples = size <= 64 ? 8 : size <= 256 ? 6 : 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [cr, cg, cb, ca] = painter((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      }
      const offset = (py * size + px) * 4;
      const count = samples * samples;
      pixels[offset] = a === 0 ? 0 : Math.round((r / a) * 255);
      pixels[offset + 1] = a === 0 ? 0 : Math.round((g / a) * 255);
      pixels[offset + 2] = a === 0 ? 0 : Math.round((b / a) * 255);
      pixels[offset + 3] = Math.round((a / count) * 255);
    }
  }
  return encodePng(size, size, pixels);
}

// ---------- Output ----------

function write(relative, png) {
  const file = path.join(here, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, png);
  console.log(`wrote build/${relative} (${png.length} bytes)`);
}

// macOS and Windows icons are converted by electron-builder from the 1024 px PNG.
write('icon.png', render(1024, appIcon(1024)));
// Linux: one PNG per size in build/icons, named as electron-builder expects.
for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) write(`icons/${size}x${size}.png`, render(size, appIcon(size)));
write('tray-icon.png', render(32, appIcon(32)));
write('tray-iconTemplate.png', render(16, templateIcon));
write('tray-iconTemplate@2x.png', render(32, templateIcon));
