#!/usr/bin/env node
/**
 * Builds the live call console view into one self-contained HTML file (dist/mcp/app/console.html): the script is
 * bundled and minified by esbuild, script and styles are inlined, and a Content-Security-Policy pins both by
 * hash, so the document can load nothing and run nothing else.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const viewDir = path.join(root, 'src/mcp/app/view');
export const OUTPUT = path.join(root, 'dist/mcp/app/console.html');

export async function buildView() {
  const bundle = await build({
    entryPoints: [path.join(viewDir, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  // A literal "</script" inside the bundle would end the inline script early.
  const script = bundle.outputFiles[0].text.replaceAll('</script', '<\\/script');
  const style = await readFile(path.join(viewDir, 'styles.css'), 'utf8');
  const template = await readFile(path.join(viewDir, 'index.html'), 'utf8');
  const hash = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "img-src 'none'",
    "connect-src 'none'",
    "font-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  const html = template
    .replace('<!--CSP-->', `<meta http-equiv="Content-Security-Policy" content="${csp}">`)
    .replace('<!--STYLE-->', () => `<style>${style}</style>`)
    .replace('<!--SCRIPT-->', () => `<script>${script}</script>`);
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, html);
  return { path: OUTPUT, bytes: Buffer.byteLength(html) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { path: file, bytes } = await buildView();
  process.stderr.write(`console view: ${path.relative(root, file)} (${Math.round(bytes / 1024)} KiB)\n`);
}
