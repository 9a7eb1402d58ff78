import { WorkflowError } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { ProcessResult } from '../ports.ts';
import type { InstanceState, Json, JsonObject } from '../types.ts';

interface RunSpec {
  await?: boolean;
  return?: 'stdout' | 'stderr' | 'code' | 'all' | 'none';
  workflow?: { namespace: string; name: string; version: string; input?: Json };
  script?: { language: string; code?: string; source?: unknown; arguments?: JsonObject; environment?: Record<string, string> };
  shell?: { command: string; arguments?: JsonObject; environment?: Record<string, string> };
  container?: JsonObject;
}

/** Scripts get this long unless the task's own timeout says otherwise. */
const DEFAULT_SCRIPT_TIMEOUT_MS = 30_000;

function processOutput(result: ProcessResult, mode: RunSpec['return'], run: TaskRun, what: string): Json {
  if (mode === 'all') return { code: result.code, stdout: result.stdout, stderr: result.stderr };
  if (mode === 'code') return result.code;
  if (result.code !== 0) {
    throw WorkflowError.of('runtime', `task "${run.name}": the ${what} exited with code ${result.code}${result.stderr ? `: ${result.stderr.slice(0, 500)}` : ''}`, run.ref, 'Process failed');
  }
  if (mode === 'none') return null;
  if (mode === 'stderr') return result.stderr;
  return result.result !== undefined ? result.result : result.stdout;
}

/** `run`: a subflow, a JavaScript script (behind the script port, bound only where an administrator enabled scripts), or — only when an operator turned them on — a shell command or container. */
export async function runTask(run: TaskRun): Promise<TaskOutcome> {
  const spec = run.def.run as RunSpec;
  const host = run.host;
  const evaluate = async (value: Json | undefined, field: string): Promise<Json> => (value === undefined ? null : host.evaluator.template(value, run.input, run.vars, run.site(field)));
  if (spec.workflow) return { kind: 'completed', output: await runSubflow(run, spec) };
  if (spec.script) {
    const script = spec.script;
    const scripts = host.ports.scripts;
    if (!scripts) {
      throw WorkflowError.of(
        'configuration',
        `task "${run.name}": run: script is turned off; an administrator can enable it (MESHFLOW_SCRIPTS=enabled on the studio and worker, or meshflow run --allow-scripts); scripts then run in a separate locked-down process`,
        run.ref,
        'Scripts disabled',
      );
    }
    if (script.language !== 'javascript' && script.language !== 'js') {
      throw WorkflowError.of('configuration', `task "${run.name}": script language "${script.language}" is not supported (use javascript)`, run.ref);
    }
    let code = script.code;
    if (code === undefined && script.source !== undefined) code = String(await host.loadResource(script.source, run.signal, run.ref));
    const timeoutMs = run.frame.deadline === undefined ? DEFAULT_SCRIPT_TIMEOUT_MS : Math.max(1, run.frame.deadline - host.now());
    const request = {
      language: 'javascript',
      code: code ?? '',
      arguments: ((await evaluate(script.arguments as Json, 'run.script.arguments')) ?? {}) as JsonObject,
      environment: ((await evaluate(script.environment as Json, 'run.script.environment')) ?? {}) as Record<string, string>,
      timeoutMs,
    };
    const pending = scripts.run(request, run.signal);
    if (spec.await === false) {
      pending.catch(() => undefined);
      return { kind: 'completed', output: run.input };
    }
    return { kind: 'completed', output: processOutput(await pending, spec.return, run, 'script') };
  }
  if (spec.shell || spec.container) {
    const what = spec.shell ? 'shell command' : 'container';
    const processes = host.ports.processes;
    if (host.allowProcesses && !processes) {
      throw WorkflowError.of('configuration', `task "${run.name}": run: ${spec.shell ? 'shell' : 'container'} is not available here: no process runner is bound to this runtime`, run.ref, 'Process execution unavailable');
    }
    if (!host.allowProcesses || !processes) {
      throw WorkflowError.of(
        'configuration',
        `task "${run.name}": run: ${spec.shell ? 'shell' : 'container'} is turned off; an operator can enable it (meshflow run --allow-processes, or the worker's allowProcesses option)`,
        run.ref,
        'Process execution disabled',
      );
    }
    const pending = spec.shell
      ? processes.shell(
          {
            command: String(await evaluate(spec.shell.command, 'run.shell.command')),
            arguments: ((await evaluate(spec.shell.arguments as Json, 'run.shell.arguments')) ?? {}) as JsonObject,
            environment: ((await evaluate(spec.shell.environment as Json, 'run.shell.environment')) ?? {}) as Record<string, string>,
          },
          run.signal,
        )
      : processes.container((await evaluate(spec.container as Json, 'run.container')) as JsonObject, run.signal);
    if (spec.await === false) {
      pending.catch(() => undefined);
      return { kind: 'completed', output: run.input };
    }
    return { kind: 'completed', output: processOutput(await pending, spec.return, run, what) };
  }
  throw WorkflowError.of('configuration', `task "${run.name}": run needs one of workflow, script, shell or container`, run.ref);
}

/**
 * A subflow runs as a child instance whose whole state lives in this task's frame, so the
 * parent's checkpoint carries it and a resumed parent resumes the child where it was.
 */
async function runSubflow(run: TaskRun, spec: RunSpec): Promise<Json> {
  const host = run.host;
  const ref = spec.workflow!;
  const resolver = host.ports.workflows;
  if (!resolver) throw WorkflowError.of('configuration', `task "${run.name}": no workflow resolver is bound, so subflows cannot be found`, run.ref);
  if (spec.await === false && resolver.start) {
    // The child's id is checkpointed before it starts, so a resumed parent starts it once.
    let detached = (run.frame.step as { detached?: string } | undefined)?.detached;
    if (!detached) {
      detached = host.ports.ids.next();
      run.frame.step = { detached };
      await host.checkpoint();
    }
    const input = ref.input === undefined ? run.input : await host.evaluator.template(ref.input, run.input, run.vars, run.site('run.workflow.input'));
    await resolver.start({ namespace: ref.namespace, name: ref.name, version: ref.version }, input, detached);
    return run.input;
  }
  let child = (run.frame.step as { child?: InstanceState } | undefined)?.child;
  if (!child) {
    const definition = await resolver.resolve({ namespace: ref.namespace, name: ref.name, version: ref.version });
    const input = ref.input === undefined ? run.input : await host.evaluator.template(ref.input, run.input, run.vars, run.site('run.workflow.input'));
    child = { version: 1, id: host.ports.ids.next(), status: 'pending', definition, input, context: {}, startedAt: host.now(), frames: {} };
    run.frame.step = { child: child as unknown as Json };
  }
  const childRun = host.runChild(child, run.frame);
  const forward = () => childRun.stop();
  run.signal.addEventListener('abort', forward, { once: true });
  const pending = childRun.done;
  if (spec.await === false) {
    pending.catch(() => undefined);
    return run.input;
  }
  try {
    const result = await pending;
    if (result.status === 'completed') return result.output;
    if (result.status === 'faulted') {
      throw new WorkflowError({ ...result.error, instance: run.ref, detail: `subflow ${ref.namespace}/${ref.name}@${ref.version} faulted at ${result.error.instance ?? '/'}: ${result.error.detail ?? result.error.title ?? result.error.type}` });
    }
    throw run.signal.reason ?? WorkflowError.of('runtime', `subflow ${ref.name} was ${result.status}`, run.ref);
  } finally {
    run.signal.removeEventListener('abort', forward);
  }
}
