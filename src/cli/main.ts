/**
 * The command registry. Only commander is imported eagerly so `ecom --help` starts
 * about as fast as node; each action lazy-imports its command module. This is the
 * only place that sets the exit code.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EcomError, ExitCode, InternalError, UsageError } from '../core/errors.js';
import { unknownNameMessage } from '../core/names.js';
import { OPEN_TARGETS, SERVICE_NAMES, type OpenTarget, type ServiceName } from '../core/system.js';
import { LOG_LEVELS } from '../core/log-level.js';
import { DEPENDENCY_LOGS, type LogSource } from '../core/log-merge.js';
import { RUNTIME_NAMES } from '../runtime/registry.js';
import { directHelpOutput } from './direct-output.js';
import { VERSION } from './version.js';

export interface GlobalOptions {
  verbose: boolean;
  cwd: string;
}

const program = new Command('ecom')
  .description('Bring up, check and tear down the ecom e-commerce system on this machine')
  .version(VERSION, '-V, --version')
  .option('--verbose', 'show detail on errors', false)
  // Shown as words, not the path: help reads the same wherever it is asked for (and can be cached, src/cli/help-cache.ts).
  .addOption(new Option('-C, --cwd <dir>', 'project directory (state lives in <dir>/.ecom or $ECOM_HOME)').default(process.cwd(), 'the current directory'))
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ outputError: () => {}, ...directHelpOutput })
  // Only commands use process.stdout; help and version never create its stream.
  .hook('preAction', () => guardStdout());

/** pino's levels, as the services' LOG_LEVEL takes them. */
const LOG_LEVEL_CHOICES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

/** A command's outcome: its exit code (0 when it returns nothing). */
let commandExitCode: number = ExitCode.ok;
const exitWith = async (run: Promise<number | void>) => {
  commandExitCode = (await run) ?? ExitCode.ok;
};

program
  .command('up')
  .alias('dev')
  .description('start the whole system and wait until every service is healthy (`ecom dev` is `ecom up --watch`)')
  .addOption(runtimeOption('where to run it (default: kind when a Docker engine answers, else local); recorded for later commands'))
  .addOption(durationOption('--timeout <duration>', 'give up after this long (e.g. 90s, 10m)', '5m'))
  .option('--port-offset <n>', 'add n to every service port (5001-5004 by default; a running system keeps its own)', parsePortOffset)
  .option('--amqp-url <url>', 'use this RabbitMQ instead of starting one (also AMQP_URL)')
  .addOption(new Option('--log-level <level>', "local: the services' log level (debug shows every request; default LOG_LEVEL, else info)").choices(LOG_LEVEL_CHOICES))
  .option('--dry-run', 'kind, context: print every step (commands with their arguments, objects in order) and run nothing', false)
  .addOption(new Option('--mesh <mode>', 'kind, context: sidecar (default; mTLS and the policies) or none (no Istio)').choices(['sidecar', 'ambient', 'none']))
  .option('--context <name>', 'context: the kubeconfig context to deploy to (default: the current one; implies --runtime context)')
  .option('--registry <registry>', 'context: where images are pushed and pulled from, e.g. registry.example.com/team (implies --runtime context)')
  .option('--yes', 'context: change a cluster that is not local without asking', false)
  .option('--json', 'print the result as JSON on stdout', false)
  .option('-w, --watch', 'then watch the sources: rebuild and restart each service a change affects, until Ctrl-C (the system keeps running)', false)
  .action(async (opts, command: Command) => {
    const { runUp } = await import('./commands/up.js');
    const watch = opts.watch || command.parent?.args[0] === 'dev';
    await exitWith(runUp({ ...globals(), ...opts, watch }));
  });

program
  .command('status')
  .description('show services, dependencies and URLs')
  .addOption(runtimeOption())
  .option('--json', 'print the status as JSON on stdout', false)
  .option('-w, --watch', 'refresh every 2 seconds until interrupted; with --json, one compact JSON document per line per refresh (NDJSON)', false)
  .action(async (opts) => {
    const { runStatus } = await import('./commands/status.js');
    await exitWith(runStatus({ ...globals(), ...opts }));
  });

program
  .command('env')
  .description('print how to reach each part: DATABASE_URL, AMQP_URL, the RabbitMQ login, Prometheus, the console, the services')
  .addOption(runtimeOption())
  .option('--json', 'print them as JSON on stdout', false)
  .option('--export', 'print `export NAME=value` lines, for eval "$(ecom env --export)"', false)
  .action(async (opts) => {
    const { runEnv } = await import('./commands/env.js');
    await exitWith(runEnv({ ...globals(), ...opts }));
  });

program
  .command('open')
  .description('print the URL of a part of the running system and open it in a browser (only print in CI or without one)')
  .argument('[target]', `one of ${OPEN_TARGETS.join(', ')} (default: console)`, parseOpenTarget)
  .addOption(runtimeOption())
  .action(async (target: OpenTarget | undefined, opts) => {
    const { runOpen } = await import('./commands/open.js');
    await exitWith(runOpen({ ...globals(), ...opts, target }));
  });

program
  .command('logs')
  .description('show service logs, merged when no service is named; also after `down` (local) and of the dependencies')
  .argument('[service]', `one of ${[...SERVICE_NAMES, ...DEPENDENCY_LOGS].join(', ')}`, parseLogSource)
  .addOption(runtimeOption())
  .option('-f, --follow', 'keep printing new lines', false)
  .option('--since <duration>', 'only lines newer than this (e.g. 10m, 1h)', parseDuration)
  .option('-n, --tail <lines>', 'only the last n lines of each service', parseCount)
  .addOption(new Option('--level <level>', 'only lines at this level or above').choices(LOG_LEVELS))
  .action(async (service: LogSource | undefined, opts) => {
    const { runLogs } = await import('./commands/logs.js');
    await exitWith(runLogs({ ...globals(), ...opts, service }));
  });

program
  .command('smoke')
  .description('check that the running system works end to end')
  .addOption(runtimeOption())
  .option('--json', 'print the results as JSON on stdout', false)
  .option('--junit <file>', 'also write a JUnit XML report to this file')
  .addOption(durationOption('--timeout <duration>', 'deadline for the whole suite', '60s'))
  .action(async (opts) => {
    const { runSmoke } = await import('./commands/smoke.js');
    await exitWith(runSmoke({ ...globals(), ...opts }));
  });

program
  .command('down')
  .description('stop everything `up` started')
  .addOption(runtimeOption())
  .option('--purge', 'also delete data (database, broker data, logs)', false)
  .option('--json', 'print the result as JSON on stdout', false)
  .action(async (opts) => {
    const { runDown } = await import('./commands/down.js');
    await exitWith(runDown({ ...globals(), ...opts }));
  });

program
  .command('restart')
  .description('rebuild what changed and restart the named services, waiting until each is healthy')
  .argument('<service...>', `services to restart (${SERVICE_NAMES.join(', ')})`, (value: string, previous: ServiceName[] = []) => [...previous, parseService(value)])
  .addOption(runtimeOption())
  .addOption(durationOption('--timeout <duration>', 'how long each service may take to answer /health again', '60s'))
  .option('--json', 'print the outcome as JSON on stdout', false)
  .action(async (services: ServiceName[], opts) => {
    const { runRestart } = await import('./commands/restart.js');
    await exitWith(runRestart({ ...globals(), ...opts, services }));
  });

program
  .command('build')
  .description('build the service images, tagged with the hash of their inputs; an existing tag is skipped')
  .argument('[service...]', `services to build (${SERVICE_NAMES.join(', ')}; all by default)`, (value: string, previous: ServiceName[] = []) => [
    ...previous,
    parseService(value),
  ])
  .option('--registry <host[:port][/path]>', 'name the images <registry>/ecom/<service>')
  .option('--push', 'push to --registry; a tag the registry has is neither built nor pushed', false)
  .option('--json', 'print the images as JSON on stdout', false)
  .action(async (services: ServiceName[] | undefined, opts) => {
    const { runBuild } = await import('./commands/build.js');
    await exitWith(runBuild({ ...globals(), ...opts, services }));
  });

program
  .command('doctor')
  .description('what is installed, what is missing, and the command that installs it')
  .addOption(runtimeOption('judge whether this runtime can run here (default: the local runtime)'))
  .option('--json', 'print the report as JSON on stdout', false)
  .action(async (opts) => {
    const { runDoctor } = await import('./commands/doctor.js');
    await exitWith(runDoctor({ ...globals(), ...opts }));
  });

program
  .command('render')
  .description('print the Kubernetes objects `up` would apply, in apply order, secrets redacted (offline)')
  .addOption(runtimeOption('the cluster runtime to render for: kind (default) or context'))
  .option('--registry <registry>', 'registry the images come from (required with --runtime context)')
  .option('-o, --output <dir>', 'write one file per object into <dir>, numbered in apply order')
  .option('--json', 'print one JSON document (a v1 List) instead of a YAML stream', false)
  .action(async (opts) => {
    const { runRender } = await import('./commands/render.js');
    await exitWith(runRender({ ...globals(), ...opts }));
  });

/**
 * `--runtime <name>` (also ECOM_RUNTIME) for a command: add it with
 * `.addOption(runtimeOption())`. Without it a command uses the runtime `up` recorded in
 * the state directory (runtime/detect.ts). A name ecom does not know is a usage error.
 */
function runtimeOption(
  description = 'the runtime to use (default: the one `ecom up` chose, recorded in the state directory)',
  choices: readonly string[] = RUNTIME_NAMES,
): Option {
  return new Option('--runtime <name>', description).choices(choices).env('ECOM_RUNTIME');
}

/** A duration option whose help shows the default as written ("5m"), not in milliseconds. */
function durationOption(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(parseDuration).default(parseDuration(fallback), fallback);
}

/** `90s`, `10m`, `1h`, `500ms` or plain seconds → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration; use e.g. 90s, 10m or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" must be longer than zero`);
  return ms;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return Number(value);
}

function parsePortOffset(value: string): number {
  if (/^\s*-\s*\d/.test(value)) throw wholeSentence(`--port-offset must not be negative (got ${value.trim()}); ports are 5001-5004 plus the offset`);
  const n = parseCount(value);
  if (n > 60_000) throw new InvalidArgumentError(`"${value}" would put ports above 65535`);
  return n;
}

function parseOpenTarget(value: string): OpenTarget {
  if ((OPEN_TARGETS as readonly string[]).includes(value)) return value as OpenTarget;
  throw wholeSentence(unknownNameMessage('target', value, OPEN_TARGETS));
}

/** A service, or a dependency whose logs `ecom logs` shows; an unknown one suggests the nearest. */
function parseLogSource(value: string): LogSource {
  const names = [...SERVICE_NAMES, ...DEPENDENCY_LOGS];
  if ((names as readonly string[]).includes(value)) return value as LogSource;
  throw wholeSentence(unknownNameMessage('service', value, names));
}

/** Every command that takes a service name parses it here: an unknown one suggests the nearest. */
export function parseService(value: string): ServiceName {
  if ((SERVICE_NAMES as readonly string[]).includes(value)) return value as ServiceName;
  throw wholeSentence(unknownNameMessage('service', value, SERVICE_NAMES));
}

/**
 * The last argument error that already says everything in one sentence; report() shows
 * it alone instead of commander's "command-argument value 'x' is invalid for argument 'y'." before it.
 */
let wholeSentenceProblem: string | undefined;
function wholeSentence(message: string): InvalidArgumentError {
  wholeSentenceProblem = message;
  return new InvalidArgumentError(message);
}

let stdoutGuarded = false;
/**
 * `ecom … | head` closes the pipe early: the reader's choice, not a failure, and never
 * a stack trace. Further output is dropped; the command finishes as it would.
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/**
 * `ecom help <name>` for a name that is no command: commander would print the whole
 * help to stderr and say "(outputHelp)"; answered as `ecom <name>` is (unknown
 * command, did you mean …).
 */
function helpTopicChecked(argv: string[]): string[] {
  const [node, script, first, topic, ...rest] = argv;
  if (first !== 'help' || topic === undefined) return argv;
  const known = program.commands.some((c) => c.name() === topic || c.aliases().includes(topic));
  return known ? argv : [node!, script!, topic, ...rest];
}

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(helpTopicChecked(argv));
    return commandExitCode;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    if (err.exitCode === 0) return ExitCode.ok;
    // Commander puts its "(Did you mean …?)" on a line of its own; keep errors to one line.
    const given = err.code === 'commander.invalidArgument' && wholeSentenceProblem !== undefined ? wholeSentenceProblem : err.message;
    const message = given.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    return printError(new UsageError(message, 'run `ecom --help` (or `ecom <command> --help`) for usage'));
  }
  if (err instanceof EcomError) return printError(err);
  return printError(new InternalError(err));
}

function printError(err: EcomError): number {
  const verbose = process.argv.includes('--verbose');
  process.stderr.write(`error: ${err.message}\n  hint: ${err.hint}\n`);
  if (verbose && err.detail) process.stderr.write(`${err.detail}\n`);
  // A script reading `--json` output gets a document on failure too, not an empty stdout.
  if (process.argv.includes('--json')) {
    guardStdout();
    const error = { message: err.message, hint: err.hint, exitCode: err.exitCode };
    process.stdout.write(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
  }
  return err.exitCode;
}

process.exitCode = await main(process.argv);
