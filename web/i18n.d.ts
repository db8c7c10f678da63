// Types of i18n.js for the TypeScript unit tests (the page itself loads the .js).
export const TEXTS: Record<'zh' | 'en', Record<string, string>>;
export function translator(lang: string): (key: string, params?: Record<string, unknown>) => string;
export function hasText(key: string): boolean;
