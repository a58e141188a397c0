/**
 * No shell anywhere (docs/security.md, "Processes"): every process Aviary starts is an
 * executable with an argument array. This reads every source file under src/ (tests
 * included, browser modules too) and fails on a `shell:` option other than `false`, on
 * `exec`/`execSync` taken from node:child_process (both run a command line through
 * /bin/sh), and on a spawn/execFile call given one argument only (a command line to split).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const FILES = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((name) => /\.(ts|js|mjs|cjs)$/.test(name))
  .map((name) => ({ name, text: readFileSync(join(SRC, name), 'utf8') }));

/** Source without comments and string contents, so prose about shells does not count. */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
}

/** The text of each call of `name(`, up to its closing parenthesis. */
function callsOf(code: string, name: string): string[] {
  const calls: string[] = [];
  const pattern = new RegExp(`\\b${name}\\(`, 'g');
  for (let match = pattern.exec(code); match !== null; match = pattern.exec(code)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (end < code.length && depth > 0) {
      const c = code[end];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      end++;
    }
    calls.push(code.slice(match.index + match[0].length, end - 1));
  }
  return calls;
}

/** True when `args` (a call's argument text) has a comma outside brackets: two arguments or more. */
function hasSecondArgument(args: string): boolean {
  let depth = 0;
  for (const c of args) {
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

describe('no shell in src/', () => {
  it('reads the whole tree', () => {
    expect(FILES.length).toBeGreaterThan(200);
    expect(FILES.some((f) => f.name.endsWith('replica-launch.ts'))).toBe(true);
  });

  it('sets no shell option other than false', () => {
    const found = FILES.filter((f) => /\bshell\s*:(?!\s*false\b)/.test(codeOf(f.text))).map((f) => f.name);
    expect(found).toEqual([]);
  });

  it('takes neither exec nor execSync from node:child_process, by name or through the module', () => {
    const found: string[] = [];
    for (const { name, text } of FILES) {
      for (const match of text.matchAll(
        /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*['"](?:node:)?child_process['"]/g,
      )) {
        const names = (match[1] ?? '').split(',').map((n) => n.trim().split(/\s+as\s+/)[0]);
        if (names.some((n) => n === 'exec' || n === 'execSync')) found.push(`${name}: ${match[0]}`);
      }
      for (const match of text.matchAll(/import\s*\*\s*as\s+(\w+)\s+from\s*['"](?:node:)?child_process['"]/g))
        if (new RegExp(`\\b${match[1]}\\.exec(Sync)?\\(`).test(text)) found.push(`${name}: ${match[1]}.exec`);
      if (/require\(\s*['"](?:node:)?child_process['"]\s*\)\s*\.exec(Sync)?\b/.test(text))
        found.push(`${name}: require().exec`);
      if (/\bchild_process\.exec(Sync)?\(/.test(codeOf(text))) found.push(`${name}: child_process.exec`);
    }
    expect(found).toEqual([]);
  });

  it('passes an argument array to every spawn and execFile', () => {
    const found: string[] = [];
    let calls = 0;
    for (const { name, text } of FILES) {
      if (!/child_process/.test(text)) continue;
      const code = codeOf(text);
      for (const fn of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
        for (const args of callsOf(code, fn)) {
          calls++;
          if (!hasSecondArgument(args)) found.push(`${relative(SRC, join(SRC, name))}: ${fn}(${args})`);
        }
      }
    }
    expect(calls).toBeGreaterThan(5);
    expect(found).toEqual([]);
  });

  it('the checks find what they look for (self-test on planted text)', () => {
    expect(/\bshell\s*:(?!\s*false\b)/.test(codeOf("spawn('a', [], { shell: true })"))).toBe(true);
    expect(/\bshell\s*:(?!\s*false\b)/.test(codeOf("spawn('a', [], { shell: false })"))).toBe(false);
    expect(callsOf(codeOf("spawn('ls -la /tmp')"), 'spawn').map(hasSecondArgument)).toEqual([false]);
    expect(callsOf(codeOf("spawn('ls', ['-la', f(x, y)])"), 'spawn').map(hasSecondArgument)).toEqual([true]);
  });
});
