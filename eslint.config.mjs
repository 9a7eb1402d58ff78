import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

// Who may import whom (STYLE.md): each rule below keeps one boundary true.
// `also`: further pattern groups for the same files (one block per file set: a later block
// that matches a file replaces the rule for it).
const restrict = (files, patterns, message, ...also) => ({
  files,
  rules: {
    // Type-only imports are allowed: the studio's client needs the API's type, not its code.
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: [{ group: patterns, message, allowTypeImports: true }, ...also] },
    ],
  },
});

// The studio never reaches into the worker process, not even for a type: what both need
// (run control, triggers, secrets) lives in runtime/ outside runtime/worker.
const NOT_THE_WORKER = {
  group: ['@/runtime/worker', '@/runtime/worker/*', '**/runtime/worker', '**/runtime/worker/*'],
  message: 'The studio does not import the worker (runtime/worker); shared code lives elsewhere in runtime/ (e.g. runtime/runs/).',
};

// The engine, compiler, expressions and node definitions.
const PURE = ['**/worker/*', '**/connectors/*', '@prisma/*', 'pg', 'node:http', 'node:net', 'mqtt', 'nats', 'amqplib', 'ioredis', 'kafkajs', 'next', 'react', '@/app/*', '@/components/*', '@/server/*'];
const PURE_MESSAGE = 'The engine, compiler, expressions and node definitions are pure: I/O comes in through ports.';

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: ['.next*/**', 'node_modules/**', '.data/**', 'prisma/generated/**', '.build/**', 'next-env.d.ts', 'test-results/**', 'playwright-report/**'],
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  restrict(
    ['runtime/**'],
    ['@/app/*', '@/components/*', '@/server/*', '**/app/*', '**/components/*', '**/server/*', 'next', 'next/*', 'react', 'react-dom'],
    'runtime/ stands alone: it never imports the studio (app/, components/, server/), Next.js or React.',
  ),
  restrict(['runtime/engine/**', 'runtime/compiler/**', 'runtime/expressions/**', 'runtime/nodes/**'], PURE, PURE_MESSAGE),
  // Repeats the pure modules' patterns (a later block replaces the rule), and forbids even the
  // interpreter's types: a type import is still an edge of the cycle interpreter → tasks → interpreter.
  restrict(['runtime/engine/tasks/**'], PURE, PURE_MESSAGE, {
    group: ['**/interpreter', '**/interpreter.ts'],
    message: 'Task handlers see the run through TaskHost (tasks/host.ts), never the interpreter.',
  }),
  restrict(
    ['components/**'],
    ['@/server/*', '**/server/*', '@prisma/*', 'pg'],
    'Components talk to the server through tRPC only.',
    NOT_THE_WORKER,
  ),
  {
    files: ['server/**', 'app/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [NOT_THE_WORKER] }] },
  },
  {
    // One import style in the tests: every module by its path from the checkout's root.
    files: ['test/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['./*', '../*'], message: "Tests import by the checkout's path: '@/runtime/…', '@/test/helpers/…'." }] }],
    },
  },
];

export default config;
