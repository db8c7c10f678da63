// Shared by the sql_validation tests and bench: question/SQL pairs on the demo database (highway_db) —
// realistic valid queries (joins, aggregates, window functions, CTEs), broken ones with a known error
// class, hostile ones — a pair-file writer and a StepContext for running the step outside the runner.
import fs from 'node:fs';
import path from 'node:path';
import { loadSettings, type Settings } from '../src/config.ts';
import type { StepContext, StepLogger, TaskParameters } from '../src/pipeline/context.ts';
import { parseStepParameters } from '../src/pipeline/parameters.ts';
import { pairFileName, type QuestionSqlPair } from '../src/pipeline/artifacts.ts';
import type { LlmClient } from '../src/llm/types.ts';
import type { Database } from '../src/postgres/connect.ts';

/** Valid on the demo database; every one returns rows. */
export const DEMO_VALID_PAIRS: QuestionSqlPair[] = [
  { question: '一共有多少家分公司？', sql: 'SELECT COUNT(*) AS company_count FROM bss_company WHERE delete_ts IS NULL;' },
  { question: '列出所有服务区的名称和编码', sql: 'SELECT service_area_name, service_area_no FROM bss_service_area WHERE delete_ts IS NULL ORDER BY service_area_no;' },
  {
    question: '各分公司管理的服务区数量是多少？',
    sql: `SELECT c.company_name AS 分公司, COUNT(a.id) AS 服务区数量
FROM bss_company c
JOIN bss_service_area a ON a.company_id = c.id AND a.delete_ts IS NULL
WHERE c.delete_ts IS NULL
GROUP BY c.company_name
ORDER BY 服务区数量 DESC;`,
  },
  {
    question: '2024年营业额最高的10个服务区是哪些？',
    sql: `SELECT service_name AS 服务区, SUM(pay_sum) AS 营业额
FROM bss_business_day_data
WHERE oper_date >= DATE '2024-01-01' AND oper_date < DATE '2025-01-01' AND delete_ts IS NULL
GROUP BY service_name
ORDER BY 营业额 DESC
LIMIT 10;`,
  },
  {
    question: '每月的微信和支付宝支付总额分别是多少？',
    sql: `SELECT date_trunc('month', oper_date)::date AS 月份, SUM(wx) AS 微信支付, SUM(zfb) AS 支付宝支付
FROM bss_business_day_data
WHERE delete_ts IS NULL
GROUP BY 1
ORDER BY 1;`,
  },
  {
    question: '各类车辆的总数量是多少？',
    sql: 'SELECT car_type AS 车辆类别, SUM(customer_count) AS 车辆总数 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY car_type ORDER BY 车辆总数 DESC;',
  },
  {
    question: '每个服务区按营业额的排名（窗口函数）',
    sql: `SELECT service_name, total, RANK() OVER (ORDER BY total DESC) AS rnk
FROM (
  SELECT service_name, SUM(pay_sum) AS total FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_name
) t
ORDER BY rnk;`,
  },
  {
    question: '每个服务区每日营业额的7日移动平均',
    sql: `SELECT service_name, oper_date,
       AVG(SUM(pay_sum)) OVER (PARTITION BY service_name ORDER BY oper_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma7
FROM bss_business_day_data
WHERE delete_ts IS NULL
GROUP BY service_name, oper_date
ORDER BY service_name, oper_date
LIMIT 100;`,
  },
  {
    question: '哪个分公司的车流量最大？',
    sql: `WITH area_cars AS (
  SELECT service_area_id, SUM(customer_count) AS cars
  FROM bss_car_day_count
  WHERE delete_ts IS NULL
  GROUP BY service_area_id
)
SELECT c.company_name, SUM(ac.cars) AS 车流量
FROM area_cars ac
JOIN bss_service_area a ON a.id = ac.service_area_id
JOIN bss_company c ON c.id = a.company_id
GROUP BY c.company_name
ORDER BY 车流量 DESC
LIMIT 1;`,
  },
  {
    question: '每条路段经过哪些服务区？',
    sql: `SELECT r.section_name AS 路段, string_agg(a.service_area_name, '、' ORDER BY a.service_area_name) AS 服务区
FROM bss_section_route r
JOIN bss_section_route_area_link l ON l.section_route_id = r.id
JOIN bss_service_area a ON a.id = l.service_area_id
GROUP BY r.section_name
ORDER BY r.section_name;`,
  },
  {
    question: '各服务区类型的数量',
    sql: "SELECT COALESCE(service_area_type, '未知') AS 类型, COUNT(*) AS 数量 FROM bss_service_area WHERE delete_ts IS NULL GROUP BY 1 ORDER BY 2 DESC;",
  },
  { question: '状态为开放的服务区有多少个？', sql: "SELECT COUNT(*) FROM bss_service_area WHERE service_state = '开放' AND delete_ts IS NULL;" },
  {
    question: '每个服务区的档口数量',
    sql: 'SELECT service_name, COUNT(DISTINCT branch_no) AS 档口数 FROM bss_business_day_data GROUP BY service_name ORDER BY 档口数 DESC;',
  },
  {
    question: '营业额环比增长率（按月）',
    sql: `WITH m AS (
  SELECT date_trunc('month', oper_date) AS month, SUM(pay_sum) AS total
  FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY 1
)
SELECT to_char(month, 'YYYY-MM') AS 月份, total,
       ROUND((total - LAG(total) OVER (ORDER BY month)) / NULLIF(LAG(total) OVER (ORDER BY month), 0) * 100, 2) AS 环比增长率
FROM m ORDER BY month;`,
  },
  {
    question: '各数据来源系统的服务区映射数量',
    sql: 'SELECT source_system_type, COUNT(*) FROM bss_service_area_mapper WHERE delete_ts IS NULL GROUP BY source_system_type ORDER BY 2 DESC;',
  },
  {
    question: '订单数最多的一天是哪天？',
    sql: 'SELECT oper_date, SUM(order_sum) AS orders FROM bss_business_day_data GROUP BY oper_date ORDER BY orders DESC LIMIT 1;',
  },
  {
    question: '各支付方式的占比',
    sql: `SELECT ROUND(SUM(wx) / SUM(pay_sum) * 100, 2) AS 微信占比,
       ROUND(SUM(zfb) / SUM(pay_sum) * 100, 2) AS 支付宝占比,
       ROUND(SUM(rmb) / SUM(pay_sum) * 100, 2) AS 现金占比
FROM bss_business_day_data WHERE delete_ts IS NULL;`,
  },
  {
    question: '每个分公司营业额前三的服务区',
    sql: `SELECT company_name, service_area_name, total FROM (
  SELECT c.company_name, a.service_area_name, SUM(d.pay_sum) AS total,
         ROW_NUMBER() OVER (PARTITION BY c.company_name ORDER BY SUM(d.pay_sum) DESC) AS rn
  FROM bss_business_day_data d
  JOIN bss_service_area a ON a.service_area_no = d.service_no
  JOIN bss_company c ON c.id = a.company_id
  GROUP BY c.company_name, a.service_area_name
) ranked
WHERE rn <= 3
ORDER BY company_name, total DESC;`,
  },
  {
    question: '周末和工作日的平均营业额对比',
    sql: `SELECT CASE WHEN EXTRACT(ISODOW FROM oper_date) IN (6, 7) THEN '周末' ELSE '工作日' END AS 日期类型,
       AVG(daily) AS 平均营业额
FROM (SELECT oper_date, SUM(pay_sum) AS daily FROM bss_business_day_data GROUP BY oper_date) d
GROUP BY 1;`,
  },
  { question: '最近一天的统计日期是哪天？', sql: 'SELECT MAX(count_date) AS 最近日期 FROM bss_car_day_count' },
];

export type BrokenKind = 'undefined_column' | 'undefined_table' | 'ambiguous' | 'syntax' | 'type_mismatch' | 'grouping' | 'runtime';

/** Broken on the demo database, with the class the checker must report. */
export const DEMO_BROKEN_PAIRS: Array<QuestionSqlPair & { class: BrokenKind; token?: string }> = [
  { question: '列出服务区名称', sql: 'SELECT service_nam FROM bss_service_area;', class: 'undefined_column', token: 'service_nam' },
  { question: '公司数量', sql: 'SELECT COUNT(*) FROM bss_companies;', class: 'undefined_table', token: 'bss_companies' },
  {
    question: '服务区及其公司',
    sql: 'SELECT id, company_name FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id;',
    class: 'ambiguous',
    token: 'id',
  },
  { question: '营业额合计', sql: 'SELECT SUM(pay_sum) FORM bss_business_day_data;', class: 'syntax', token: 'bss_business_day_data' },
  { question: '某日营业额', sql: "SELECT SUM(pay_sum) FROM bss_business_day_data WHERE oper_date = 'yesterday-ish';", class: 'type_mismatch' },
  { question: '各服务区营业额', sql: 'SELECT service_name, oper_date, SUM(pay_sum) FROM bss_business_day_data GROUP BY service_name;', class: 'grouping', token: 'oper_date' },
  { question: '公司名称转数字', sql: 'SELECT company_name::int FROM bss_company;', class: 'runtime' },
];

/** Queries that must never change anything: refused by the gate, or contained. */
export const HOSTILE_SQL: string[] = [
  'DROP TABLE bss_company',
  'DELETE FROM bss_company',
  "UPDATE bss_company SET company_name = 'x' RETURNING *",
  'SELECT 1; DROP TABLE bss_company',
  'WITH d AS (DELETE FROM bss_company RETURNING *) SELECT * FROM d',
  'SELECT pg_sleep(60)',
  'SELECT pg_terminate_backend(pid) FROM pg_stat_activity',
  "SELECT nextval('dp_probe_seq')",
  "SELECT set_config('search_path', 'evil', false)",
  "COPY (SELECT 1) TO PROGRAM 'touch /tmp/dp_pwned'",
  'SELECT * FROM bss_company FOR UPDATE',
  'SELECT * INTO dp_stolen FROM bss_company',
  "SELECT pg_advisory_lock(42)",
  "SELECT pg_read_file('/etc/passwd')",
  "SELECT lo_import('/etc/passwd')",
  "SELECT query_to_xml('DELETE FROM bss_company RETURNING 1', true, true, '')",
  'SELECT dblink_exec(\'dbname=postgres\', \'DROP TABLE x\')',
  'CREATE TABLE dp_evil AS SELECT 1',
  'TRUNCATE bss_company',
  "DO $$ BEGIN EXECUTE 'DROP TABLE bss_company'; END $$",
  'BEGIN; DELETE FROM bss_company; COMMIT',
  'SET default_transaction_read_only = off',
  'SELECT 1 FROM bss_company WHERE company_name = \'\'; DROP TABLE bss_company; --\'',
  'SELECT setval(\'dp_probe_seq\', 1000)',
  'SELECT pg_cancel_backend(pg_backend_pid())',
  'LOCK TABLE bss_company IN ACCESS EXCLUSIVE MODE',
  'VACUUM bss_company',
  'SELECT txid_current()',
];

/** n pairs for the bench: the valid demo pairs with varied constants (distinct texts, same shapes). */
export function benchPairs(n: number): QuestionSqlPair[] {
  const out: QuestionSqlPair[] = [];
  for (let i = 0; out.length < n; i += 1) {
    const base = DEMO_VALID_PAIRS[i % DEMO_VALID_PAIRS.length]!;
    const k = Math.floor(i / DEMO_VALID_PAIRS.length);
    out.push({ question: `${base.question} (${k})`, sql: base.sql.replace(/;?\s*$/, '').concat(`\n-- variant ${k}`) });
  }
  return out;
}

export function writePairFile(dir: string, pairs: unknown[], dbName = 'highway_db', stamp = '20250627_143052'): string {
  const name = pairFileName(dbName, stamp);
  fs.writeFileSync(path.join(dir, name), `${JSON.stringify(pairs, null, 2)}\n`);
  return name;
}

export interface TestContext extends StepContext {
  logs: Array<{ level: string; message: string }>;
  counters: Record<string, number>;
  progressLog: Array<{ done: number; total: number; unit: string }>;
}

export function makeStepContext(options: {
  dir: string;
  db: Database;
  llm?: LlmClient;
  parameters?: Partial<TaskParameters>;
  settings?: Settings;
  signal?: AbortSignal;
}): TestContext {
  const logs: TestContext['logs'] = [];
  const counters: Record<string, number> = {};
  const progressLog: TestContext['progressLog'] = [];
  const settings = options.settings ?? loadSettings({ DATA_PIPELINE_OUTPUT_DIR: options.dir, DATA_PIPELINE_LOG_DIR: options.dir }, options.dir);
  const log: StepLogger = {
    debug: (message) => logs.push({ level: 'DEBUG', message }),
    info: (message) => logs.push({ level: 'INFO', message }),
    warn: (message) => logs.push({ level: 'WARNING', message }),
    error: (message) => logs.push({ level: 'ERROR', message }),
  };
  const signal = options.signal ?? new AbortController().signal;
  return {
    taskId: 'task_20250627_143052',
    step: 'sql_validation',
    workspaceDir: options.dir,
    params: {
      enable_sql_validation: true,
      enable_llm_repair: true,
      modify_original_file: true,
      enable_training_data_load: true,
      backup_vector_tables: false,
      truncate_vector_tables: false,
      ...options.parameters,
      ...parseStepParameters(options.parameters ?? {}),
    },
    settings,
    log,
    signal,
    checkpoint: async () => {
      if (signal.aborted) throw new Error('cancelled');
    },
    progress: (done, total, unit) => progressLog.push({ done, total, unit }),
    count: (c) => {
      for (const [k, v] of Object.entries(c)) counters[k] = (counters[k] ?? 0) + v;
    },
    businessDatabase: async () => options.db,
    llm: options.llm,
    embedder: async () => {
      throw new Error('no embedder in sql_validation tests');
    },
    vectorDatabase: async () => {
      throw new Error('no vector database in sql_validation tests');
    },
    logs,
    counters,
    progressLog,
  };
}
