#!/usr/bin/env node
/**
 * Makes the TypeScript benchmark runnable by plain `node` without a second type-checking build (`npm run
 * typecheck` checks these files): every bench/**\/*.ts is transpiled on its own into bench/.build/bench/, and
 * bench/.build/src links to dist/, so the bench's `../src/...` imports load the very build the server runs from.
 * The measured child processes are therefore plain JavaScript. dist/ is rebuilt first (`npm run build`) when it
 * is missing or older than any file in src/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoDir = dirname(benchDir);
const outRoot = join(benchDir, '.build');
const outBench = join(outRoot, 'bench');

/** Runs `npm run build` unless dist/index.js is newer than every source file. */
export function ensureBuilt() {
  const built = statSync(join(repoDir, 'dist', 'index.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  let newest = 0;
  for (const file of sources(join(repoDir, 'src'))) newest = Math.max(newest, statSync(file).mtimeMs);
  if (newest <= built) return false;
  process.stderr.write('dist/ is missing or older than src/: npm run build\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoDir, stdio: 'inherit' });
  return true;
}

export function transpileBench() {
  if (!statSync(join(repoDir, 'dist', 'index.js'), { throwIfNoEntry: false })) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outBench, { recursive: true });
  symlinkSync(relative(outRoot, join(repoDir, 'dist')), join(outRoot, 'src'), 'dir');
  let files = 0;
  for (const file of sources(benchDir)) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        inlineSourceMap: true,
        inlineSources: true,
      },
    });
    const out = join(outBench, relative(benchDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    files++;
  }
  return { outDir: outBench, files };
}

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'results' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureBuilt();
  transpileBench();
}
