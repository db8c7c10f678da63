// Turns schema validation issues into the guide's 400 answer: a precise message naming the parameter,
// in the request's language, and the guide's specific codes where it names one (execute's mode and step).
import type { FastifySchemaValidationError } from 'fastify';
import { AppError, type ErrorCode } from '../errors.ts';
import { phrase, t, type Lang, type Phrase } from '../messages.ts';

/** Per-route mapping from a parameter to the guide's error code for it (route `config.errorCodes`). */
export type ParamErrorCodes = Record<string, ErrorCode>;

interface Issue {
  param: string;
  missing: boolean;
  reason: Phrase;
}

export function validationError(
  issues: FastifySchemaValidationError[],
  context: string | undefined,
  errorCodes: ParamErrorCodes = {},
): AppError {
  const described = issues.map(describeIssue);
  const missing = described.filter((i) => i.missing).map((i) => i.param);
  const invalid = described.filter((i) => !i.missing).map((i) => i.param);
  const first = described[0]!;
  // Own keys only: a hostile parameter named `constructor` or `__proto__` must not find Object's.
  const code = Object.hasOwn(errorCodes, first.param) ? errorCodes[first.param]! : 'VALIDATION_ERROR';
  const where = phrase(context === 'querystring' ? 'validation.where_query' : context === 'params' ? 'validation.where_path' : 'validation.where_body');
  const sentence = (i: Issue) => phrase(i.missing ? 'validation.missing' : 'validation.invalid', { where, param: i.param, reason: i.reason });
  const all = (lang: Lang) => described.map((i) => t(sentence(i).key, lang, sentence(i).params)).join('; ');
  return new AppError(code, {
    key: 'err.worded_below',
    params: { reason: { zh: all('zh'), en: all('en') } },
    invalidParams: invalid.length ? unique(invalid) : undefined,
    missingParams: missing.length ? unique(missing) : undefined,
  });
}

function describeIssue(issue: FastifySchemaValidationError): Issue {
  const params = (issue.params ?? {}) as Record<string, unknown>;
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const keyword = issue.keyword;
  if (keyword === 'unrecognized_keys') {
    const keys = (params.keys as string[] | undefined) ?? [];
    const names = keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
    return { param: names || path, missing: false, reason: phrase('reason.unknown_parameter') };
  }
  const param = path || 'body';
  if (keyword === 'invalid_type') {
    const expected = String(params.expected ?? '');
    const missing = /received undefined/.test(issue.message ?? '');
    const known = ['string', 'number', 'int', 'boolean', 'array'].includes(expected);
    const reason = expected === 'object'
      ? phrase(path ? 'reason.expected_object' : 'reason.expected_json_object')
      : known ? phrase(`reason.expected_${expected as 'string'}`) : phrase('reason.expected', { type: expected });
    return { param, missing, reason };
  }
  if (keyword === 'invalid_value') {
    const values = ((params.values as unknown[]) ?? []).map((v) => `'${String(v)}'`).join(', ');
    return { param, missing: false, reason: phrase('reason.one_of', { values }) };
  }
  if (keyword === 'too_small' || keyword === 'too_big') {
    const limit = String(params.minimum ?? params.maximum ?? '');
    const origin = String(params.origin ?? '');
    const small = keyword === 'too_small';
    if (origin === 'string') {
      if (small && limit === '1') return { param, missing: false, reason: phrase('reason.not_empty') };
      return { param, missing: false, reason: phrase(small ? 'reason.min_length' : 'reason.max_length', { limit }) };
    }
    if (origin === 'array') return { param, missing: false, reason: phrase(small ? 'reason.min_items' : 'reason.max_items', { limit }) };
    return { param, missing: false, reason: phrase(small ? 'reason.min_value' : 'reason.max_value', { limit }) };
  }
  if (keyword === 'invalid_format' || keyword === 'custom') {
    return { param, missing: false, reason: phrase(issue.message ? 'reason.as_given' : 'reason.invalid_format', { reason: issue.message }) };
  }
  return { param, missing: false, reason: phrase(issue.message ? 'reason.as_given' : 'reason.invalid', { reason: issue.message }) };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
