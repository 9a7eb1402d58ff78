/**
 * `meshflow` — the command line. Each command lives in its own file under commands/ and
 * is loaded lazily, so `meshflow cesql` does not pay for loading the workflow SDK.
 */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type Command = (args: string[], io: CommandIo) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  catalog: { summary: 'Export the event catalog as AsyncAPI 3.0, or import a document', load: () => import('./commands/catalog.ts') },
  cesql: { summary: 'Evaluate a CloudEvents SQL expression', load: () => import('./commands/cesql.ts') },
  compile: { summary: 'Print the DSL YAML of a flow graph JSON', load: () => import('./commands/compile.ts') },
  deploy: { summary: 'Deploy a flow file or DSL document to a studio', load: () => import('./commands/deploy.ts') },
  events: { summary: 'Explain what each deployed flow did with an event (events explain <id>)', load: () => import('./commands/events.ts') },
  filter: { summary: 'Test an event filter against a CloudEvent', load: () => import('./commands/filter.ts') },
  flows: { summary: "List a studio's flows and their deployments", load: () => import('./commands/flows.ts') },
  graph: { summary: 'Print the graph JSON of a DSL document', load: () => import('./commands/graph.ts') },
  replay: { summary: 'Dry-run logged events through a candidate version and the live one, and show what would change', load: () => import('./commands/replay.ts') },
  run: { summary: 'Run a workflow file in-process', load: () => import('./commands/run.ts') },
  test: { summary: 'Run flow tests (<flow>.test.yaml) in-process; non-zero exit on a failure', load: () => import('./commands/test.ts') },
  undeploy: { summary: 'Stop a deployed flow', load: () => import('./commands/undeploy.ts') },
  validate: { summary: 'Validate a workflow file', load: () => import('./commands/validate.ts') },
};

const defaultIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length), 8);
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: meshflow <command> [options]\n\nCommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`meshflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const { default: run } = await command.load();
  return run(rest, io);
}
