// Turns schema validation issues into the guide's 400 answer: a precise message naming the parameter,
// in the request's language, and the guide's specific codes where it names one (execute's mode and step).
import type { FastifySchemaValidationError } from 'fastify';
import type { Lang } from '../messages.ts';
import { AppError } from '../errors.ts';

/** Per-route mapping from a parameter to the guide's error code for it (route `config.errorCodes`). */
export type ParamErrorCodes = Record<string, string>;

interface Issue {
  param: string;
  missing: boolean;
  reason: { zh: string; en: string };
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
  const code = errorCodes[first.param] ?? 'VALIDATION_ERROR';
  const where = context === 'querystring' ? { zh: '查询参数', en: 'query parameter' } : context === 'params' ? { zh: '路径参数', en: 'path parameter' } : { zh: '参数', en: 'parameter' };
  const text = (lang: Lang) =>
    described
      .map((i) =>
        i.missing
          ? lang === 'zh' ? `缺少必需参数: ${i.param}` : `Missing required ${where.en}: ${i.param}`
          : lang === 'zh' ? `${where.zh} ${i.param} 无效: ${i.reason.zh}` : `Invalid ${where.en} ${i.param}: ${i.reason.en}`,
      )
      .join('; ');
  return new AppError(400, code, 'err.invalid_param', {
    params: { param: first.param, reason: first.reason.en },
    invalidParams: invalid.length ? unique(invalid) : undefined,
    missingParams: missing.length ? unique(missing) : undefined,
    texts: { zh: text('zh'), en: text('en') },
  });
}

function describeIssue(issue: FastifySchemaValidationError): Issue {
  const params = (issue.params ?? {}) as Record<string, unknown>;
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const keyword = issue.keyword;
  if (keyword === 'unrecognized_keys') {
    const keys = (params.keys as string[] | undefined) ?? [];
    const names = keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
    return { param: names || path, missing: false, reason: { zh: '不支持的参数', en: 'unknown parameter' } };
  }
  const param = path || 'body';
  if (keyword === 'invalid_type') {
    const expected = String(params.expected ?? '');
    const missing = /received undefined/.test(issue.message ?? '');
    const zhType: Record<string, string> = { string: '字符串', number: '数字', int: '整数', boolean: '布尔值 (true/false)', object: 'JSON对象', array: '数组' };
    return {
      param,
      missing,
      reason: { zh: `应为${zhType[expected] ?? expected}`, en: `expected ${expected === 'object' && !path ? 'a JSON object' : expected}` },
    };
  }
  if (keyword === 'invalid_value') {
    const values = ((params.values as unknown[]) ?? []).map((v) => `'${String(v)}'`).join(', ');
    return { param, missing: false, reason: { zh: `必须是 ${values} 之一`, en: `must be one of ${values}` } };
  }
  if (keyword === 'too_small' || keyword === 'too_big') {
    const limit = String(params.minimum ?? params.maximum ?? '');
    const origin = String(params.origin ?? '');
    const small = keyword === 'too_small';
    if (origin === 'string') {
      return small && limit === '1'
        ? { param, missing: false, reason: { zh: '不能为空', en: 'must not be empty' } }
        : { param, missing: false, reason: { zh: `长度必须${small ? '至少' : '最多'}为 ${limit}`, en: `length must be ${small ? 'at least' : 'at most'} ${limit}` } };
    }
    if (origin === 'array') {
      return { param, missing: false, reason: { zh: `元素个数必须${small ? '至少' : '最多'}为 ${limit}`, en: `must have ${small ? 'at least' : 'at most'} ${limit} items` } };
    }
    return { param, missing: false, reason: { zh: `必须${small ? '大于等于' : '小于等于'} ${limit}`, en: `must be ${small ? '≥' : '≤'} ${limit}` } };
  }
  if (keyword === 'invalid_format' || keyword === 'custom') {
    return { param, missing: false, reason: { zh: issue.message ?? '格式无效', en: issue.message ?? 'invalid format' } };
  }
  return { param, missing: false, reason: { zh: issue.message ?? '无效', en: issue.message ?? 'invalid' } };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
