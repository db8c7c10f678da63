// Live progress for `data-pipeline run`: bars on a terminal, quiet lines otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import type { Lang } from '../messages.ts';
import type { StepName } from '../pipeline/steps.ts';
import type { StepStatus } from '../tasks/model.ts';
import type { RunObserver } from '../tasks/runner.ts';
import type { TaskWithSteps } from '../tasks/store.ts';

export interface ProgressReporter {
  observer: RunObserver;
  start(taskId: string, dir: string): void;
  finish(task: TaskWithSteps): void;
  stop(): void;
}

const STEP_LABEL: Record<StepName, { zh: string; en: string }> = {
  ddl_generation: { zh: 'DDL/MD文档生成', en: 'DDL/MD generation' },
  qa_generation: { zh: 'Question-SQL生成', en: 'Question-SQL generation' },
  sql_validation: { zh: 'SQL验证', en: 'SQL validation' },
  training_load: { zh: '训练数据加载', en: 'Training data load' },
};

export function createProgressReporter(options: { lang: Lang; quiet: boolean; tty: boolean }): ProgressReporter {
  const { lang, quiet, tty } = options;
  const out = (line: string) => process.stderr.write(`${line}\n`);
  let bars: cliProgress.MultiBar | undefined;
  const stepBars = new Map<StepName, cliProgress.SingleBar>();
  const lastPrinted = new Map<StepName, number>();

  const observer: RunObserver = {
    stepStarted(step) {
      if (quiet) return;
      if (tty) {
        bars ??= new cliProgress.MultiBar(
          { format: ' {step} [{bar}] {value}/{total} {unit}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        stepBars.set(step, bars.create(1, 0, { step: STEP_LABEL[step][lang].padEnd(22), unit: '' }));
      } else {
        out(`[${step}] ${lang === 'zh' ? '开始' : 'started'}`);
      }
    },
    progress(step, progress) {
      if (quiet) return;
      const bar = stepBars.get(step);
      if (bar) {
        bar.setTotal(Math.max(progress.total, 1));
        bar.update(progress.done, { unit: progress.unit });
        return;
      }
      // Line mode: at most one line per 10% of the step, and the last one.
      const decile = progress.total ? Math.floor((progress.done / progress.total) * 10) : 0;
      if (lastPrinted.get(step) === decile && progress.done !== progress.total) return;
      lastPrinted.set(step, decile);
      out(`[${step}] ${progress.done}/${progress.total} ${progress.unit}`);
    },
    stepFinished(step: StepName, status: StepStatus, error?: string) {
      if (quiet) return;
      const bar = stepBars.get(step);
      if (bar) bar.stop();
      if (!tty || status !== 'completed') out(`[${step}] ${status}${error ? `: ${error}` : ''}`);
    },
  };

  return {
    observer,
    start(taskId, dir) {
      if (!quiet) out(`${lang === 'zh' ? '任务' : 'Task'} ${taskId} → ${dir}`);
    },
    finish(task) {
      bars?.stop();
      const failed = task.steps.find((s) => s.status === 'failed');
      const summary = task.steps.map((s) => `${s.step_name}=${s.status}`).join(' ');
      console.log(`${task.task_id} ${task.status} (${summary})`);
      // sql_validation's funnel: where pairs were lost, stage by stage (each drop's reason is in its report).
      const c = task.steps.find((s) => s.step_name === 'sql_validation')?.counters as Record<string, number> | undefined;
      if (c && typeof c.generated === 'number') {
        const zh = lang === 'zh';
        console.log(
          `sql_validation: ${zh ? '生成' : 'generated'} ${c.generated} → ${zh ? '可解析' : 'parsed'} ${c.parsed} → EXPLAIN ${c.explain_valid} → ` +
            `${zh ? '语义检查通过' : 'lint-clean'} ${c.lint_clean} → ${zh ? '含义核对通过' : 'meaning-checked'} ${c.meaning_checked ?? c.lint_clean} → ${zh ? '修复' : 'repaired'} +${c.repaired_in_funnel} → ${zh ? '去重后' : 'deduplicated'} ${c.deduplicated} → ${zh ? '保留' : 'kept'} ${c.kept}`,
        );
      }
      if (failed) console.log(`${failed.step_name}: [${failed.error_code}] ${failed.error_message}`);
    },
    stop() {
      bars?.stop();
    },
  };
}
