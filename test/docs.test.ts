/**
 * The documentation holds together: every relative link of README.md and docs/*.md points at a
 * file of the repository and, where it names an anchor, at a heading of that file; the
 * configuration page lists exactly the variables src/config.ts reads.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../src/config.js';
import { useCleanStorage } from './support/storage.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown without its fenced code blocks and inline code, where link syntax means nothing. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = headingAnchor(heading!.replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    anchors.add(n === 0 ? base : `${base}-${n}`);
    seen.set(base, n + 1);
  }
  return anchors;
}

function linksOf(page: string): string[] {
  const text = prose(readFileSync(path.join(root, page), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('documentation', () => {
  useCleanStorage();

  describe('links', () => {
    for (const page of pages) {
      it(`${page}: every relative link and anchor resolves`, () => {
        const dead: string[] = [];
        for (const link of linksOf(page)) {
          if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // http:, https:, mailto:
          const [target, anchor] = link.split('#') as [string, string | undefined];
          const file = target === '' ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), decodeURI(target));
          if (!file.startsWith(root + path.sep)) continue; // ../shared/: the workspace beside the clone
          if (!existsSync(file)) {
            dead.push(`${link} (no such file)`);
            continue;
          }
          if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) dead.push(`${link} (no such heading)`);
        }
        expect(dead, `dead links in ${page}`).to.deep.equal([]);
      });
    }
  });

  describe('README.md', () => {
    it('stays short enough to read in five minutes (at most 250 lines)', () => {
      const lines = readFileSync(path.join(root, 'README.md'), 'utf8').trimEnd().split('\n');
      expect(lines.length).to.be.at.most(250);
    });
  });

  describe('docs/configuration.md', () => {
    it('lists exactly the variables src/config.ts reads', () => {
      const text = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
      const documented = new Set<string>();
      for (const [, firstCell] of text.matchAll(/^\|([^|\n]+)\|/gm)) {
        for (const [, name] of firstCell!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) documented.add(name!);
      }
      expect([...documented].sort()).to.deep.equal([...CONFIG_VARIABLES].sort());
    });
  });

  describe('heading anchors', () => {
    it('are made as GitHub makes them', () => {
      expect(headingAnchor('The chat bot: 200 residents at once (issue 9)')).to.equal('the-chat-bot-200-residents-at-once-issue-9');
      expect(headingAnchor('Elderly meals (老年助餐)')).to.equal('elderly-meals-老年助餐');
      expect(headingAnchor('What `npm start` does')).to.equal('what-npm-start-does');
    });
  });
});
