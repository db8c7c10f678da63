// Prompts of qa_generation. Bump `version` whenever the wording changes; the pair sidecar records which
// template and version produced each theme and pair.
import type { PromptTemplate } from './template.ts';

export const QA_THEMES_PROMPT: PromptTemplate = {
  id: 'qa.themes',
  version: 1,
  system: {
    zh: '你是一位资深的数据分析师，熟悉“{{business_context}}”的业务。你根据数据库的表结构设计数据分析主题：只使用给出的表，不编造表或字段，只返回 JSON。',
    en: 'You are a senior data analyst who knows the business of "{{business_context}}". You design analysis themes from a database schema: use only the tables given, never invent tables or columns, and answer with JSON only.',
  },
  user: {
    zh: `业务背景：{{business_context}}
数据库：{{db_name}}（共 {{table_count}} 张表）

数据库结构摘要：
{{schema_summary}}

请设计 {{theme_count}} 个数据分析主题。要求：
1. 每个主题聚焦一个业务分析方向（例如经营规模、趋势、排名、构成、对应关系），主题之间不要重复；
2. 主题合起来覆盖尽可能多的表，优先覆盖有度量字段和时间字段的表；
3. related_tables 只能使用上面出现的表名（照抄 schema.table 或 table），每个主题 1～5 张，不要编造表；
4. entities 是主题涉及的业务实体，metrics 是可以计算的业务指标（如金额合计、数量、占比、环比）；
5. 以表结构和业务背景为准，不要套用其他行业的主题。

只返回如下 JSON，不要其他文字：
{"themes": [{"name": "主题名称", "description": "一两句话的主题描述", "related_tables": ["表名"], "entities": ["业务实体"], "metrics": ["业务指标"], "keywords": ["关键词"]}]}`,
    en: `Business context: {{business_context}}
Database: {{db_name}} ({{table_count}} tables)

Schema summary:
{{schema_summary}}

Design {{theme_count}} analysis themes. Requirements:
1. Each theme is one business analysis direction (e.g. volume, trends, rankings, composition, relationships); themes do not overlap.
2. Together the themes cover as many tables as possible, tables with measures and time columns first.
3. related_tables may only use table names that appear above (copy schema.table or table), 1-5 per theme; never invent a table.
4. entities are the business entities involved; metrics are computable business measures (totals, counts, shares, month-over-month changes).
5. Follow the schema and the business context; do not borrow themes from other industries.

Answer with this JSON only, no other text:
{"themes": [{"name": "theme name", "description": "one or two sentences", "related_tables": ["table"], "entities": ["entity"], "metrics": ["metric"], "keywords": ["keyword"]}]}`,
  },
};

export const QA_PAIRS_PROMPT: PromptTemplate = {
  id: 'qa.pairs',
  version: 1,
  system: {
    zh: '你是一位资深的数据分析师和 PostgreSQL 专家，为 Text-to-SQL 训练编写“业务问题 + SQL”对。问题要像真实的业务分析人员提出的那样自然、具体；SQL 必须能在 PostgreSQL 上直接执行并回答该问题。只返回 JSON。',
    en: 'You are a senior data analyst and PostgreSQL expert writing question–SQL pairs for Text-to-SQL training. Questions read like a real business analyst wrote them, natural and specific; each SQL runs on PostgreSQL as is and answers its question. Answer with JSON only.',
  },
  user: {
    zh: `业务背景：{{business_context}}
主题：{{theme_name}}
主题描述：{{theme_description}}
业务实体：{{entities}}
业务指标：{{metrics}}

相关表的结构（列、类型、注释、枚举值、示例值）：
{{tables}}

表之间的关联关系（含根据命名和数据推断的关联，JOIN 时使用）：
{{relationships}}

请编写 {{count}} 个问题–SQL 对，复杂度分布：
{{spread}}

要求：
1. 每条 SQL 是单条 SELECT 语句（可以用 WITH），以分号结尾；只使用上面列出的表和列，名称与上面完全一致；标识符含大写字母、保留字或中文时用双引号；
2. {{soft_delete}}
3. 过滤条件使用上面给出的真实枚举值或示例值，使查询能返回数据；
4. 问题用中文书写，不出现 SQL、表名或列名；问题的风格要多样：命令式（“统计……”）、疑问句（“……是多少？”）、口语化（“帮我看看……”）、带业务场景（“为评估……，请……”）；
5. 问题之间不重复，SQL 也不能只是替换常量的重复。
{{avoid}}
只返回如下 JSON，不要其他文字：
{"pairs": [{"question": "问题", "sql": "SELECT ...;", "complexity": "single_table|join|aggregate|window_cte", "style": "imperative|question|colloquial|business"}]}`,
    en: `Business context: {{business_context}}
Theme: {{theme_name}}
Theme description: {{theme_description}}
Entities: {{entities}}
Metrics: {{metrics}}

Tables (columns, types, comments, enum values, sample values):
{{tables}}

Relationships between the tables (including inferred ones; use them for JOINs):
{{relationships}}

Write {{count}} question–SQL pairs with this spread of complexity:
{{spread}}

Requirements:
1. Each SQL is a single SELECT statement (WITH allowed) ending with a semicolon; use only the tables and columns above, spelled exactly as above; double-quote identifiers with capitals, reserved words or non-ASCII characters.
2. {{soft_delete}}
3. Filter on the real enum values or sample values shown above so the queries return rows.
4. Write the questions in English, with no SQL, table or column names in them; vary the style: imperative ("Calculate …"), question ("What is …?"), colloquial ("Can you check …"), business scenario ("To assess …, list …").
5. No two questions alike, and no SQL that only differs in a constant.
{{avoid}}
Answer with this JSON only, no other text:
{"pairs": [{"question": "question", "sql": "SELECT ...;", "complexity": "single_table|join|aggregate|window_cte", "style": "imperative|question|colloquial|business"}]}`,
  },
};
