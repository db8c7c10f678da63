// The offline generator's template table, all families.
import { CROSS_TEMPLATES } from './cross.ts';
import { FACT_TEMPLATES } from './fact.ts';
import { LINK_TEMPLATES } from './link.ts';
import type { Template } from './model.ts';
import { REFERENCE_TEMPLATES } from './reference.ts';
import { TIME_TEMPLATES } from './time.ts';

export const TEMPLATES: Template[] = [...FACT_TEMPLATES, ...REFERENCE_TEMPLATES, ...LINK_TEMPLATES, ...TIME_TEMPLATES, ...CROSS_TEMPLATES];
export type { Draft, Family, Signature, Template, TemplateContext } from './model.ts';
export { signatureKey } from './model.ts';
