/**
 * The README is the first screen and links to the rest: every relative link in README.md and docs/*.md must
 * resolve to a file in the repository, and every #anchor to a heading of the page it names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsIn(file: string): Set<string> {
  const text = readFileSync(path.join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
}

function linksIn(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/i.test(target));
}

describe('the documentation links', () => {
  it('has a page of its own for what left the README', () => {
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(120);
  });

  for (const page of pages) {
    it(`resolves every relative link in ${page}`, () => {
      const links = linksIn(page);
      if (page === 'README.md') expect(links.length).toBeGreaterThan(5);
      for (const link of links) {
        const [target, anchor] = link.split('#');
        const file = target === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), target));
        expect(existsSync(path.join(root, file)), `${page} → ${link}`).toBe(true);
        if (anchor && file.endsWith('.md')) expect(anchorsIn(file).has(anchor), `${page} → ${link}`).toBe(true);
      }
    });
  }
});
