// Prompts are versioned templates, one text per language. A template's id and version are recorded with
// what it produced (e.g. the pair sidecar), so a change of wording is traceable. Placeholders are
// `{{name}}`; a placeholder with no value is an error (never silently sent as blank).
import type { Lang } from '../../messages.ts';
import type { ChatMessage } from '../types.ts';

export interface PromptTemplate {
  /** Stable name, e.g. 'qa.themes'. */
  id: string;
  /** Bumped whenever the wording changes. */
  version: number;
  system: Record<Lang, string>;
  user: Record<Lang, string>;
}

export interface RenderedPrompt {
  id: string;
  version: number;
  lang: Lang;
  messages: ChatMessage[];
}

export function renderPrompt(template: PromptTemplate, lang: Lang, vars: Record<string, string | number>): RenderedPrompt {
  const fill = (text: string) =>
    text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, name: string) => {
      if (!(name in vars)) throw new Error(`prompt ${template.id}@v${template.version}: no value for {{${name}}}`);
      return String(vars[name]);
    });
  return {
    id: template.id,
    version: template.version,
    lang,
    messages: [
      { role: 'system', content: fill(template.system[lang]) },
      { role: 'user', content: fill(template.user[lang]) },
    ],
  };
}
