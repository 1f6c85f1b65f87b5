// JSON validation with ajv: every error quotes the file, the JSON path and the rule broken.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UsageError } from '../core/errors.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const compiled = new WeakMap<object, ValidateFunction>();

function describe(e: ErrorObject, prefix = ''): string {
  const full = prefix + e.instancePath;
  const path = full === '' ? '(root)' : full;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}: unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'required':
      return `${path}: missing required property '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'enum':
      return `${path}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
    default:
      return `${path}: ${e.message} (rule '${e.keyword}')`;
  }
}

function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Validates (and fills defaults into) `data`; returns one line per problem, each starting with the
 * JSON path (prefixed by `pathPrefix`, e.g. '/tasks/2' for a suite entry) and naming the rule.
 */
export function schemaProblems(schema: object, data: unknown, pathPrefix = ''): string[] {
  const validate = compile(schema);
  if (validate(data)) return [];
  // an if/then failure is reported twice: by the broken rule inside 'then' and by 'if' itself
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  return [...new Set(errors.map((e) => describe(e, pathPrefix)))];
}

/** A usage error listing problems found in `source`. */
export function invalid(source: string, problems: string[]): UsageError {
  return new UsageError(`${source} is invalid:\n  ${problems.join('\n  ')}`);
}

/** Validates (and fills defaults into) `data`; throws a UsageError listing every problem. */
export function validateJson<T>(schema: object, data: unknown, source: string, pathPrefix = ''): T {
  const problems = schemaProblems(schema, data, pathPrefix);
  if (problems.length) throw invalid(source, problems);
  return data as T;
}

/** Reads a JSON file (clear errors for a missing file or bad JSON) and validates it. */
export function readJsonFile<T>(path: string, schema: object): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateJson<T>(schema, data, path);
}
