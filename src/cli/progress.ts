// Live progress for `data-pipeline run`: bars on a terminal, quiet lines otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import { t, type Lang, type MessageKey } from '../messages.ts';
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

const STEP_LABEL: Record<StepName, MessageKey> = {
  ddl_generation: 'step_label.ddl_generation',
  qa_generation: 'step_label.qa_generation',
  sql_validation: 'step_label.sql_validation',
  training_load: 'step_label.training_load',
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
        stepBars.set(step, bars.create(1, 0, { step: t(STEP_LABEL[step], lang).padEnd(22), unit: '' }));
      } else {
        out(`[${step}] ${t('progress.started', lang)}`);
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
      if (!quiet) out(t('progress.task', lang, { task_id: taskId, dir }));
    },
    finish(task) {
      bars?.stop();
      const failed = task.steps.find((s) => s.status === 'failed');
      const summary = task.steps.map((s) => `${s.step_name}=${s.status}`).join(' ');
      console.log(`${task.task_id} ${task.status} (${summary})`);
      // sql_validation's funnel: where pairs were lost, stage by stage (each drop's reason is in its report).
      const c = task.steps.find((s) => s.step_name === 'sql_validation')?.counters as Record<string, number> | undefined;
      if (c && typeof c.generated === 'number') {
        console.log(t('progress.validation_funnel', lang, { ...c, meaning_checked: c.meaning_checked ?? c.lint_clean }));
      }
      if (failed) console.log(`${failed.step_name}: [${failed.error_code}] ${failed.error_message}`);
    },
    stop() {
      bars?.stop();
    },
  };
}
