/**
 * Validating JSON documents against the published JSON Schemas
 * (docs/schemas/v1/*.schema.json, draft 2020-12) with ajv, in strict mode:
 * the only module that imports ajv. A schema ajv rejects (an unknown
 * keyword, a bad $ref) fails the test that loads it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPO_ROOT } from './imgaudit.js';

/** Where the schemas are shipped (package.json `files` holds docs/). */
export const SCHEMA_DIR = path.join(REPO_ROOT, 'docs', 'schemas', 'v1');

/** The names of the published schemas (`report` for report.schema.json). */
export function schemaNames(): string[] {
  return fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).map((f) => f.slice(0, -'.schema.json'.length)).sort();
}

/** The published schema `name`, parsed. */
export function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
}

/** The errors of `document` against schema `name`, one line each (empty: valid). */
export function schemaErrors(name: string, document: unknown): string[] {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  const validate = ajv.compile(readSchema(name));
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
