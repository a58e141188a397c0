/**
 * Reading configuration documents: YAML or JSON text (JSON is YAML 1.2, so one parser reads
 * both), from files or request bodies. Syntax errors name the line and column.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from './config-error.js';

/** Parses one YAML or JSON document; a syntax error becomes a {@link ConfigError}. */
export function parseDocumentText(text: string, source: string): unknown {
  const documents = parseDocumentsText(text, source);
  if (documents.length > 1) {
    throw new ConfigError(source, [
      { path: '', message: `expected one document, found ${documents.length}` },
    ]);
  }
  return documents[0] ?? null;
}

/** Parses every document of a multi-document YAML stream (`---` separated). */
export function parseDocumentsText(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const issues = [];
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      issues.push({
        path: '',
        message: `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${err.message.split('\n')[0] ?? ''}`,
      });
    }
    if (doc.errors.length > 0) continue;
    try {
      values.push(doc.toJS({ maxAliasCount: 100 }));
    } catch (err) {
      // The yaml library refuses alias bombs ("billion laughs") with a ReferenceError.
      issues.push({ path: '', message: `not valid YAML: ${(err as Error).message}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return values;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
}

/** Reads and parses a YAML or JSON file. */
export async function readDocumentFile(path: string): Promise<unknown> {
  return parseDocumentText(await readText(path), path);
}

/** Reads and parses every document of a YAML file (`---` separated). */
export async function readDocumentsFile(path: string): Promise<unknown[]> {
  return parseDocumentsText(await readText(path), path);
}
