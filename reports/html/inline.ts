/**
 * What every HTML report shares: the charting library read from node_modules and inlined (a report
 * is one self-contained file: no network, scripts and data inline), and escaping of everything a
 * scenario supplies.
 *
 * uPlot (MIT, ~50 KB minified) draws time series of a few thousand points per series on a canvas;
 * it suits change-point series bounded to ~2,000 points, has no dependencies and needs no build step.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: { js: string; css: string } | null = null;

/** uPlot's minified IIFE build (defines the global `uPlot`) and its stylesheet, read once. */
export function uplotAssets(): { js: string; css: string } {
  if (cached !== null) return cached;
  const req = createRequire(import.meta.url);
  const dist = dirname(req.resolve('uplot/dist/uPlot.iife.min.js'));
  cached = {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
  return cached;
}

/** Text placed in HTML element content or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * Data embedded in a <script> element as JSON: `</script>`, `<!--` and the JS line separators
 * cannot end the element or break the parse, whatever strings the data holds.
 */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script content: a literal `</script` inside it would end the element early. */
export function scriptBody(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}
