/**
 * `aviary validate FILE...`: checks configuration files without running anything. Each YAML
 * document (`---` separated) is recognised by its shape and validated by the schema that
 * owns it: `kind: Aviary` (aviary.yaml), `kind: Canary` (a Flagger Canary; fields Aviary
 * ignores are warnings), a proxy config (`listeners:`), or a release file (`canaryConfig:`,
 * `versions:` or a bare list), which the release schema checks when this build has one.
 * Prints `FILE: path: message` per issue and exits 3 when any document is invalid.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseAviaryConfig } from '../config/app-schema.js';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { parseDocumentsText } from '../config/document.js';
import { loadFlaggerCanary } from '../config/flagger-canary.js';
import { proxyConfigSchema } from '../config/proxy-schema.js';
import { parseWithSchema } from '../config/schema-issues.js';
import { EXIT } from './exit-codes.js';
import { checkReleaseDocument } from './validate-release.js';

/** What a document was recognised as. */
export type DocumentKind = 'Aviary' | 'Canary' | 'Router' | 'Release' | 'Unknown';

/** The outcome for one document of a file (1-based `index`). */
export interface DocumentReport {
  readonly index: number;
  readonly kind: DocumentKind;
  readonly valid: boolean;
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/** The outcome for one file, as `--json` prints it. `kind` is `Mixed` when documents differ. */
export interface FileReport {
  readonly file: string;
  readonly valid: boolean;
  readonly kind: DocumentKind | 'Mixed' | 'Empty';
  readonly issues: readonly (ConfigIssue & { readonly document: number })[];
  readonly warnings: readonly (ConfigIssue & { readonly document: number })[];
  readonly documents: readonly DocumentReport[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Recognises a parsed document by its shape. */
export function kindOf(document: unknown): DocumentKind {
  if (Array.isArray(document)) return 'Release';
  if (!isRecord(document)) return 'Unknown';
  if (document.kind === 'Aviary') return 'Aviary';
  if (document.kind === 'Canary') return 'Canary';
  if ('listeners' in document) return 'Router';
  if (Array.isArray(document.canaryConfig) || Array.isArray(document.versions)) return 'Release';
  if (typeof document.apiVersion === 'string' && document.apiVersion.startsWith('aviary.dev/'))
    return 'Aviary';
  if (typeof document.apiVersion === 'string' && document.apiVersion.startsWith('flagger.app/'))
    return 'Canary';
  return 'Unknown';
}

const UNKNOWN_DOCUMENT: ConfigIssue = {
  path: '',
  message:
    'cannot tell what this document is: expected "kind: Aviary", a Flagger "kind: Canary", a router config ("listeners:") or a release file ("canaryConfig:" or "versions:")',
};

/** Validates one parsed document; never throws for bad input. */
export async function validateDocument(
  document: unknown,
  index: number,
  source: string,
): Promise<DocumentReport> {
  const kind = kindOf(document);
  const report = (issues: readonly ConfigIssue[], warnings: readonly ConfigIssue[] = []): DocumentReport => ({
    index,
    kind,
    valid: issues.length === 0,
    issues,
    warnings,
  });
  switch (kind) {
    case 'Aviary': {
      const result = parseAviaryConfig(document);
      return report(result.ok ? [] : result.issues);
    }
    case 'Canary':
      try {
        const canary = loadFlaggerCanary(document, { source });
        return report(
          [],
          canary.ignored.map((field) => ({ path: field.path, message: `ignored: ${field.reason}` })),
        );
      } catch (err) {
        if (err instanceof ConfigError) return report(err.issues);
        throw err;
      }
    case 'Router': {
      const result = parseWithSchema(proxyConfigSchema, document);
      return report(result.ok ? [] : result.issues);
    }
    case 'Release': {
      const result = await checkReleaseDocument(document);
      return report(result.issues, result.warnings);
    }
    case 'Unknown':
      return report([UNKNOWN_DOCUMENT]);
  }
}

/** Reads and validates every document of `file`. */
export async function validateFile(file: string): Promise<FileReport> {
  const failed = (issues: readonly ConfigIssue[], kind: FileReport['kind'] = 'Unknown'): FileReport => ({
    file,
    valid: false,
    kind,
    issues: issues.map((issue) => ({ ...issue, document: 1 })),
    warnings: [],
    documents: [],
  });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return failed([{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  let parsed: unknown[];
  try {
    parsed = parseDocumentsText(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return failed(err.issues);
    throw err;
  }
  const documents: DocumentReport[] = [];
  for (const [i, document] of parsed.entries()) {
    // An empty document (a trailing `---`) is no document at all.
    if (document === null || document === undefined) continue;
    documents.push(await validateDocument(document, i + 1, parsed.length > 1 ? `${file}#${i + 1}` : file));
  }
  if (documents.length === 0) return failed([{ path: '', message: 'the file holds no document' }], 'Empty');
  const kinds = new Set(documents.map((d) => d.kind));
  const [onlyKind] = kinds;
  return {
    file,
    valid: documents.every((d) => d.valid),
    kind: kinds.size === 1 && onlyKind !== undefined ? onlyKind : 'Mixed',
    issues: documents.flatMap((d) => d.issues.map((issue) => ({ ...issue, document: d.index }))),
    warnings: documents.flatMap((d) => d.warnings.map((issue) => ({ ...issue, document: d.index }))),
    documents,
  };
}

/** The text lines for one file: `FILE: path: message` per issue (`FILE#N` for document N of several). */
export function reportLines(report: FileReport): string[] {
  const several = report.documents.length > 1;
  const label = (document: number): string => (several ? `${report.file}#${document}` : report.file);
  const at = (path: string): string => (path === '' ? '(root)' : path);
  const lines = [
    ...report.issues.map((i) => `${label(i.document)}: ${at(i.path)}: ${i.message}`),
    ...report.warnings.map((w) => `${label(w.document)}: warning: ${at(w.path)}: ${w.message}`),
  ];
  if (report.valid) {
    const kinds = report.documents.map((d) => d.kind).join(', ');
    lines.push(`${report.file}: valid (${kinds})`);
  }
  return lines;
}

interface ValidateOptions {
  readonly json?: boolean;
}

/** Runs `aviary validate`; sets exit code 3 when any document is invalid. */
export async function runValidate(files: readonly string[], options: ValidateOptions): Promise<void> {
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validateFile(file));
  if (options.json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
  else process.stdout.write(reports.flatMap(reportLines).join('\n') + '\n');
  if (reports.some((r) => !r.valid)) process.exitCode = EXIT.invalidConfig;
}

/** Registers `aviary validate`. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check aviary.yaml, Flagger Canary, proxy config and release files without running them')
    .argument('<file...>', 'YAML or JSON files; several documents per file separated by ---')
    .option('--json', 'print [{file, valid, kind, issues[], warnings[], documents[]}]')
    .addHelpText(
      'after',
      `
Examples:
  aviary validate aviary.yaml
  aviary validate canary.yaml router.yaml release.yaml
  aviary validate --json aviary.yaml | jq '.[].issues'
Output: one "FILE: path: message" line per issue ("FILE#N" names document N of several);
Flagger fields Aviary ignores are printed as warnings and do not fail the file.
Exit code 3 when any document is invalid, 0 otherwise.`,
    )
    .action(async (files: string[], options: ValidateOptions) => {
      await runValidate(files, options);
    });
}
