import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

// Who may import whom (STYLE.md): each rule below keeps one boundary true.
const restrict = (files, patterns, message) => ({
  files,
  rules: {
    // Type-only imports are allowed: the studio's client needs the API's type, not its code.
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: [{ group: patterns, message, allowTypeImports: true }] },
    ],
  },
});

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
  {
    // A later block replaces the rule for its files, so the pure modules' patterns are repeated here.
    files: ['runtime/engine/tasks/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: PURE, message: PURE_MESSAGE, allowTypeImports: true },
            // Not even its types: a type import is still an edge of the cycle interpreter → tasks → interpreter.
            { group: ['**/interpreter', '**/interpreter.ts'], message: 'Task handlers see the run through TaskHost (tasks/host.ts), never the interpreter.' },
          ],
        },
      ],
    },
  },
  restrict(
    ['components/**'],
    ['@/server/*', '**/server/*', '@prisma/*', 'pg'],
    'Components talk to the server through tRPC only.',
  ),
  {
    // One import style in the tests: every module by its path from the checkout's root.
    files: ['test/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['./*', '../*'], message: "Tests import by the checkout's path: '@/runtime/…', '@/test/helpers/…'." }] }],
    },
  },
];

export default config;
